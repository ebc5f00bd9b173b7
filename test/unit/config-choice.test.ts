/**
 * Production and the lab apart (issue 13, point 2): which config file a command takes. The lab's generated
 * file is a default only in a checkout of the project; a config that was given (--config, MRB_CONFIG,
 * ./mail-runbooks.yaml) is used or reported, never swapped for the lab's; every "no config" error says
 * what to do.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/config/check.js';
import { labFallbackAllowed, missingConfigMessage, resolveConfigPath } from '../../src/config/load.js';
import { run } from '../../src/client.js';
import { FULL } from './config-fixture.js';

let withLab = ''; // a working folder with only the lab's file
let withBoth = ''; // ... and an invalid ./mail-runbooks.yaml

beforeAll(async () => {
  withLab = await mkdtemp(join(tmpdir(), 'mrb-choice-lab-'));
  await mkdir(join(withLab, '.lab'));
  await writeFile(join(withLab, '.lab/target.yaml'), FULL);
  withBoth = await mkdtemp(join(tmpdir(), 'mrb-choice-both-'));
  await mkdir(join(withBoth, '.lab'));
  await writeFile(join(withBoth, '.lab/target.yaml'), FULL);
  await writeFile(join(withBoth, 'mail-runbooks.yaml'), 'version: 1\ndefaultTarget: prod\n');
});
afterAll(async () => {
  await rm(withLab, { recursive: true, force: true });
  await rm(withBoth, { recursive: true, force: true });
});

async function cliIn(cwd: string, env: Record<string, string | undefined>, ...args: string[]) {
  const saved = { cwd: process.cwd(), MRB_CONFIG: process.env.MRB_CONFIG, MRB_LAB: process.env.MRB_LAB };
  process.chdir(cwd);
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  let stdout = '';
  let stderr = '';
  try {
    const code = await run(args, {
      stdout: (s) => void (stdout += s),
      stderr: (s) => void (stderr += s),
      isTTY: false,
    });
    return { code, stdout, stderr };
  } finally {
    process.chdir(saved.cwd);
    for (const k of ['MRB_CONFIG', 'MRB_LAB'] as const) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

describe('the lab as a default', () => {
  it('is allowed in this checkout (it has the lab image sources), unless MRB_LAB=off', () => {
    expect(labFallbackAllowed({})).toBe(true);
    expect(labFallbackAllowed({ MRB_LAB: 'off' })).toBe(false);
  });

  it("is taken in a checkout when nothing is given, and the reason says it is the lab's", () => {
    expect(resolveConfigPath({ env: {}, cwd: withLab, allowLab: true })).toEqual({
      path: join(withLab, '.lab/target.yaml'),
      reason: '.lab/target.yaml, written by the lab (no config given)',
      exists: true,
      source: 'lab',
    });
  });

  it('is never taken where the lab is not allowed (the installed package, MRB_LAB=off)', async () => {
    const choice = resolveConfigPath({ env: {}, cwd: withLab, allowLab: false });
    expect(choice).toMatchObject({
      source: 'none',
      exists: false,
      path: join(withLab, 'mail-runbooks.yaml'),
    });
    expect(missingConfigMessage(choice)).toBe(
      `no config file (none found: MRB_CONFIG is unset and ./mail-runbooks.yaml does not exist in ${withLab}): ` +
        'give one with --config <file> or MRB_CONFIG=<file>, or create ./mail-runbooks.yaml (start from ' +
        'docs/config.example.yaml; `npx mail-runbooks config check -c <file>` validates it)',
    );
    const off = await cliIn(withLab, { MRB_CONFIG: undefined, MRB_LAB: 'off' }, 'config', 'check');
    expect(off.code).toBe(1);
    expect(off.stdout).toContain('give one with --config <file> or MRB_CONFIG=<file>');
    expect(off.stdout).not.toContain('.lab/target.yaml');
  });
});

describe('a config that was given', () => {
  it('missing (--config, MRB_CONFIG) is an error naming what to do, even where the lab file exists', async () => {
    const fromEnv = resolveConfigPath({ env: { MRB_CONFIG: 'prod.yaml' }, cwd: withLab, allowLab: true });
    expect(fromEnv).toMatchObject({ source: 'env', exists: false, path: join(withLab, 'prod.yaml') });
    expect(missingConfigMessage(fromEnv)).toBe(
      `config file ${join(withLab, 'prod.yaml')} (from MRB_CONFIG) does not exist: create it, or point ` +
        'MRB_CONFIG at an existing file (start from docs/config.example.yaml)',
    );

    const given = await cliIn(withLab, { MRB_CONFIG: undefined }, 'config', 'check', '-c', 'prod.yaml');
    expect(given.code).toBe(1);
    expect(given.stdout).toContain(
      `config file ${join(withLab, 'prod.yaml')} (given with --config) does not exist`,
    );
    expect(given.stdout).toMatch(/verdict: NOT OK/);

    const start = await cliIn(withLab, { MRB_CONFIG: 'prod.yaml' }, 'start', 'statusCheck');
    expect(start.code).toBe(1);
    expect(start.stderr).toBe(
      'mail-runbooks: start without --target (to find the default target) needs a config file: config file ' +
        `${join(withLab, 'prod.yaml')} (from MRB_CONFIG) does not exist: create it, or point MRB_CONFIG at an ` +
        'existing file (start from docs/config.example.yaml)\n',
    );
  });

  it('./mail-runbooks.yaml that is invalid is reported, not replaced by the lab file beside it', async () => {
    expect(resolveConfigPath({ env: {}, cwd: withBoth, allowLab: true }).source).toBe('cwd');
    const result = await checkConfig(undefined, { env: {}, cwd: withBoth, allowLab: true });
    expect(result.ok).toBe(false);
    expect(result.summary.config).toBe(join(withBoth, 'mail-runbooks.yaml'));
    expect(result.problems.join('\n')).toContain('targets: missing (required)');

    const start = await cliIn(withBoth, { MRB_CONFIG: undefined }, 'start', 'statusCheck');
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(
      `needs the config ${join(withBoth, 'mail-runbooks.yaml')} (./mail-runbooks.yaml in the working folder), ` +
        'which is not valid (fix it; `npx mail-runbooks config check` lists every problem)',
    );
  });
});
