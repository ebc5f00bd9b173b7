/**
 * `npm start` (bin/mail-runbooks-start.js, what the script runs) with a config given that is missing or
 * invalid, or with the lab turned off: one error that says what to do, exit 1, and no lab, Temporal server
 * or worker started. (With nothing given, a checkout brings up the lab: test/integration/npm-start.test.ts.)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const START = fileURLToPath(new URL('../../bin/mail-runbooks-start.js', import.meta.url));
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mrb-start-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `npm start`'s entry in `cwd` with `env` added; killed after 60 s. */
function start(cwd: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [START], {
      cwd,
      env: { ...process.env, MRB_CONFIG: '', TEMPORAL_ADDRESS: '', MRB_METRICS_ADDRESS: 'off', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe('npm start with a config given', () => {
  it('MRB_CONFIG naming a missing file: an error naming what to do, not the lab', async () => {
    const missing = join(dir, 'prod.yaml');
    const r = await start(dir, { MRB_CONFIG: missing });
    expect(r.code, r.output).toBe(1);
    expect(r.output).toContain(
      `npm start failed: config file ${missing} (from MRB_CONFIG) does not exist: create it, or point ` +
        'MRB_CONFIG at an existing file',
    );
    expect(r.output).not.toMatch(/^(lab|temporal|worker):/m);
  });

  it('an invalid ./mail-runbooks.yaml: the problems and how to list them, not the lab', async () => {
    await writeFile(join(dir, 'mail-runbooks.yaml'), 'version: 1\ndefaultTarget: prod\n');
    try {
      const r = await start(dir, {});
      expect(r.code, r.output).toBe(1);
      expect(r.output).toContain(
        `npm start failed: the config ${join(dir, 'mail-runbooks.yaml')} is not valid; fix it ` +
          `(\`npx mail-runbooks config check -c ${join(dir, 'mail-runbooks.yaml')}\` lists every problem)`,
      );
      expect(r.output).toContain('targets: missing (required)');
      expect(r.output).not.toMatch(/^(lab|temporal|worker):/m);
    } finally {
      await rm(join(dir, 'mail-runbooks.yaml'));
    }
  });

  it('no config and MRB_LAB=off: an error naming what to do', async () => {
    const r = await start(dir, { MRB_LAB: 'off' });
    expect(r.code, r.output).toBe(1);
    expect(r.output).toContain(
      'npm start failed: no config given and MRB_LAB=off: give one with --config <file> or MRB_CONFIG=<file>',
    );
    expect(r.output).not.toMatch(/^(lab|temporal|worker):/m);
  });
});
