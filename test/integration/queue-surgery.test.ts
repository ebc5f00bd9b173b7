/**
 * Queue surgery on the lab: the relay is down (so nothing leaves the queue by itself while the test runs)
 * and the lab's queue-flood fault puts 300 messages from flood@lab.test in the deferred queue. A dry run
 * changes nothing; hold (after approval) acts on exactly the messages shown, not on mail that arrived
 * after the selection; a rejected delete changes nothing; release and delete after approval.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFault, healFault, injectFault } from '../../src/lab/faults.js';
import { NAMES } from '../../src/lab/settings.js';
import type { RunbookReport } from '../../src/shared/types.js';
import { ensureLab, healAndFlush, inLab, type Lab } from '../helpers/lab.js';
import {
  approve,
  reject,
  report,
  runbookHarness,
  stepsOf,
  waitForApproval,
  type RunbookHarness,
} from '../helpers/runbooks.js';

let lab: Lab;
let h: RunbookHarness;
const FLOOD = 300;
const LATE = 40;

beforeAll(async () => {
  lab = await ensureLab();
  await healAndFlush(lab, 'queue-flood');
  await injectFault(lab.ctx, findFault('relay-down'));
  await injectFault(lab.ctx, findFault('queue-flood'), [String(FLOOD)]);
  h = await runbookHarness(lab.up.config);
});

afterAll(async () => {
  await healFault(lab.ctx, findFault('queue-flood')).catch(() => undefined);
  await healFault(lab.ctx, findFault('relay-down')).catch(() => undefined);
  await h?.teardown('queue-surgery');
});

/** Flood messages per queue, straight from postqueue -j in the container. */
async function floodByQueue(): Promise<Record<string, number>> {
  const { stdout } = await inLab(lab, 'mailserver', ['postqueue', '-j'], { timeoutMs: 60_000 });
  const counts: Record<string, number> = {};
  for (const line of stdout.split('\n').filter(Boolean)) {
    const m = JSON.parse(line) as { queue_name: string; sender: string };
    if (m.sender === NAMES.floodSender) counts[m.queue_name] = (counts[m.queue_name] ?? 0) + 1;
  }
  return counts;
}

const step = (r: RunbookReport, name: string) => r.steps.find((s) => s.name === name);
const surgery = (params: Record<string, unknown>) => h.start('queueSurgery', { params });

describe('queueSurgery on the lab', () => {
  it('a dry run shows what matches and changes nothing', async () => {
    const r = await report(await surgery({ sender: NAMES.floodSender, dryRun: true }));
    expect(r.verdict, stepsOf(r)).toBe('healthy');
    expect(r.cause).toMatch(
      new RegExp(`^dry run: ${FLOOD} of \\d+ queued messages match sender ${NAMES.floodSender}`),
    );
    const evidence = step(r, 'select-messages')?.evidence as { matched: number; sample: unknown[] };
    expect(evidence.matched).toBe(FLOOD);
    expect(evidence.sample).toHaveLength(10);
    expect(r.decisions).toEqual([]);
    expect(await floodByQueue()).toEqual({ deferred: FLOOD });
  });

  it('bad parameters fail at once, naming each one', async () => {
    const handle = await surgery({ sender: 'not-an-address', action: 'purge' });
    const failure = await handle.result().then(
      () => undefined,
      (e: unknown) => e as Error & { cause?: Error },
    );
    expect(String(failure?.cause?.message)).toMatch(
      /params\.sender must be one mail address.*params\.action/,
    );
  });

  it('hold after approval: exactly the messages shown, not mail that arrived later', async () => {
    const handle = await surgery({ sender: NAMES.floodSender });
    const pending = await waitForApproval(handle, 'hold-messages');
    expect(pending.pending?.reason).toMatch(new RegExp(`^hold ${FLOOD} messages: .*reversible`));
    // More flood mail arrives while the approver reads the evidence: it was not shown, so it stays put.
    await new Promise((r) => setTimeout(r, 1100));
    await injectFault(lab.ctx, findFault('queue-flood'), [String(LATE)]);
    await approve(handle, 'hold-messages');
    const r = await report(handle);
    expect(r.verdict, stepsOf(r)).toBe('fixed');
    expect(step(r, 'hold-messages')?.summary).toMatch(new RegExp(`^held ${FLOOD} messages`));
    expect(r.decisions.map((d) => [d.step, d.approved, d.by])).toEqual([
      ['hold-messages', true, 'integration-test'],
    ]);
    expect(await floodByQueue()).toEqual({ hold: FLOOD, deferred: LATE });
  });

  it('a rejected delete changes nothing: needs-human', async () => {
    const handle = await surgery({ sender: NAMES.floodSender, queue: 'hold', action: 'delete' });
    await reject(handle, 'delete-messages');
    const r = await report(handle);
    expect(r.verdict, stepsOf(r)).toBe('needs-human');
    expect(await floodByQueue()).toEqual({ hold: FLOOD, deferred: LATE });
  });

  it('release, then delete older mail by recipient domain, each after approval', async () => {
    const release = await surgery({ sender: NAMES.floodSender, action: 'release' });
    await approve(release, 'release-messages');
    const released = await report(release);
    expect(released.verdict, stepsOf(released)).toBe('fixed');
    expect(await floodByQueue()).toEqual({ deferred: FLOOD + LATE });

    const remove = await surgery({ domain: 'dest.test', olderThanMinutes: 0, action: 'delete' });
    const pending = await approve(remove, 'delete-messages');
    expect(pending.pending?.reason).toMatch(/NOT reversible/);
    const removed = await report(remove);
    expect(removed.verdict, stepsOf(removed)).toBe('fixed');
    expect(step(removed, 'selection-left')?.summary).toMatch(/^no queued message matches/);
    expect(await floodByQueue()).toEqual({});
  });
});
