/**
 * Activity results are bounded where they are made: with the largest log tail the config allows (5,000
 * lines) of long lines, the mail log activity's result, run by a real `tail` on a real file, stays under
 * 256 KB, keeps its shape and keeps the newest lines. Any result, step outcome or not, is bounded too.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { boundActivities, boundResult, MAX_RESULT_BYTES } from '../../src/activities/bounds.js';
import { mailServerCommandsFor } from '../../src/commands/index.js';
import { LocalTransport } from '../../src/transports/local.js';

const PAYLOAD_LIMIT = 256 * 1024;
const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

let dir: string;
let mailLog: string;
const LINES = 6_000;
const line = (i: number): string =>
  `Nov 22 10:00:00 mail postfix/smtp[${i}]: ABC${i}: to=<user${i}@example.com>, relay=relay.lab.test[10.0.0.1]:25, ` +
  `delay=1, status=deferred (${'x'.repeat(1500)}) #${i}`;

vi.mock('../../src/activities/context.js', () => ({
  onMailServer: async () => ({
    target: { name: 'lab', thresholds: { logTailLines: 5_000 } },
    host: new LocalTransport(),
    commands: mailServerCommandsFor({ kind: 'postfix', mailLog }),
  }),
  targetConfig: async () => ({ name: 'lab' }),
}));

const { mailLogTail } = await import('../../src/activities/mail-server.js');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mrb-bounds-'));
  mailLog = join(dir, 'mail.log');
  await writeFile(mailLog, Array.from({ length: LINES }, (_, i) => line(i)).join('\n') + '\n');
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('activity result bounds', () => {
  it('a 5,000-line tail of long log lines (~7.5 MB) comes back under 256 KB, newest lines kept', async () => {
    const result = await mailLogTail('lab');
    expect(bytes(result)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    expect(bytes(result)).toBeLessThan(PAYLOAD_LIMIT);
    expect(result.summary).toMatch(/last \d+ log lines.*evidence trimmed/);
    const lines = result.evidence.lines;
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.at(-1)).toBe(line(LINES - 1));
    // Counts were made from the whole tail, before trimming.
    expect(result.evidence.deferred).toBe(5_000);
  });

  it('bounds any result: a step outcome with a huge summary, a plain value, and a registered activity', async () => {
    const huge = { ok: true, summary: 's'.repeat(100_000), evidence: { output: 'o'.repeat(2_000_000) } };
    const outcome = boundResult(huge);
    expect(bytes(outcome)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    expect(outcome.evidence.output.endsWith('o')).toBe(true);
    const plain = boundResult({
      items: Array.from({ length: 100_000 }, (_, i) => ({ id: i, text: 'y'.repeat(50) })),
    });
    expect(bytes(plain)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    expect(plain.items.at(-1)?.id).toBe(99_999);
    const small = { ok: true, summary: 'fine', evidence: { n: 1 } };
    expect(boundResult(small)).toBe(small);
    const { big } = boundActivities({ big: async () => huge });
    expect(bytes(await big())).toBeLessThanOrEqual(MAX_RESULT_BYTES);
  });
});
