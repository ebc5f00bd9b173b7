/**
 * A real build and a package (issue 13, point 1): `npm pack` (its prepack runs `npm run build`), the
 * tarball installed into a temporary prefix with production dependencies only (scripts/install-package.sh:
 * npm install --global --prefix <tmp> --omit=dev --prefer-offline), then the installed commands: --version,
 * --help, `config check -c <example>`, no lab fallback, and the compiled worker loading the workflow bundle
 * the build made (dist/workflow-bundle.js, no webpack at start) on a real Temporal dev server. The systemd units of deploy/ are
 * checked by `systemd-analyze verify` against these installed commands.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv } from '../helpers/temporal.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;
let dir = '';
let prefix = '';
let installed = '';
const bin = (name: string) => join(prefix, 'bin', name);

/** Runs an installed command; never throws for a non-zero exit. */
async function command(
  name: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
) {
  try {
    const { stdout, stderr } = await run(bin(name), args, { timeout: 60_000, ...options });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mrb-package-'));
  prefix = join(dir, 'prefix');
  const started = Date.now();
  await run(join(ROOT, 'scripts/install-package.sh'), [prefix], { timeout: 540_000 });
  console.log(
    `package: built, packed and installed (--omit=dev) in ${Math.round((Date.now() - started) / 1000)} s`,
  );
  installed = join(prefix, 'lib/node_modules/mail-runbooks');
}, 600_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the installed package', () => {
  it('holds the compiled program and production dependencies only', async () => {
    expect(existsSync(join(installed, 'dist/workflows/index.js'))).toBe(true);
    expect(existsSync(join(installed, 'dist/build-info.json'))).toBe(true);
    expect(existsSync(join(installed, 'dist/workflow-bundle.js'))).toBe(true);
    expect(existsSync(join(installed, 'dist/workflow-bundle.json'))).toBe(true);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    expect(existsSync(join(installed, 'lab'))).toBe(false); // no lab: no lab fallback
    const modules = await readdir(join(installed, 'node_modules'));
    for (const dev of ['tsx', 'typescript', 'vitest', 'eslint', 'prettier'])
      expect(modules).not.toContain(dev);
    expect(await readdir(join(installed, 'node_modules/@temporalio'))).not.toContain('testing');
  });

  it('mail-runbooks --version and --help', async () => {
    const version = await command('mail-runbooks', ['--version']);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toMatch(
      new RegExp(`^${VERSION.replace(/\./g, '\\.')}( \\(commit [0-9a-f]{12}(-modified)?\\))?\\n$`),
    );
    const help = await command('mail-runbooks', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: mail-runbooks \[options\] \[command\]/);
    expect(help.stdout).toContain('config');
  });

  it('config check -c <the shipped example> loads it (only its secrets are missing here)', async () => {
    const example = join(installed, 'docs/config.example.yaml');
    const r = await command('mail-runbooks', ['config', 'check', '-c', example]);
    expect(r.stdout).toContain(`config: ${example} (given with --config)`);
    expect(r.stdout).toContain('targets: 1 (default: lab)');
    const problems = r.stdout.split('problems:\n')[1]?.split('\nverdict')[0]?.split('\n') ?? [];
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(p).toContain('secret not resolvable');
  });

  it('never falls back to the lab file: no config is an error that says what to do', async () => {
    const cwd = join(dir, 'work');
    await mkdir(join(cwd, '.lab'), { recursive: true });
    await writeFile(
      join(cwd, '.lab/target.yaml'),
      await readFile(join(installed, 'docs/config.example.yaml')),
    );
    const env = { ...process.env, MRB_CONFIG: '', MRB_LAB: '' };
    const check = await command('mail-runbooks', ['config', 'check'], { cwd, env });
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(
      `no config file (none found: MRB_CONFIG is unset and ./mail-runbooks.yaml does not exist in ${cwd}): ` +
        'give one with --config <file> or MRB_CONFIG=<file>',
    );
    expect(check.stdout).not.toContain('.lab/target.yaml');
    const start = await command('mail-runbooks-start', [], { cwd, env: { ...env, TEMPORAL_ADDRESS: '' } });
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(
      'no config given and the installed package has no lab: give one with --config',
    );
  });

  it('systemd units verify against the installed commands', async (ctx) => {
    if (!existsSync('/usr/bin/systemd-analyze')) ctx.skip();
    const units = (await readdir(join(ROOT, 'deploy'))).filter((f) => f.endsWith('.service'));
    expect(units.length).toBeGreaterThan(0);
    const unitDir = join(dir, 'units');
    await mkdir(unitDir, { recursive: true });
    for (const unit of units) {
      const text = await readFile(join(ROOT, 'deploy', unit), 'utf8');
      expect(text).toMatch(/^ExecStart=\/usr\/local\/bin\/mail-runbooks/m);
      await writeFile(join(unitDir, unit), text.replaceAll('/usr/local/bin/', `${prefix}/bin/`));
    }
    const r = await run('systemd-analyze', ['verify', ...units.map((u) => join(unitDir, u))], {
      timeout: 60_000,
    }).then(
      (ok) => ({ code: 0, output: ok.stderr + ok.stdout }),
      (err: { code?: number; stdout?: string; stderr?: string }) => ({
        code: err.code ?? -1,
        output: (err.stderr ?? '') + (err.stdout ?? ''),
      }),
    );
    // Only the units' own lines count (the host's other units may have warnings of their own).
    const ours = r.output.split('\n').filter((l) => units.some((u) => l.includes(u)));
    expect(ours, r.output).toEqual([]);
    expect(r.code, r.output).toBe(0);
  });
});

describe('the installed worker', () => {
  let env: TestWorkflowEnvironment | undefined;
  afterAll(async () => {
    await env?.teardown();
  });

  it('loads the prebuilt workflow bundle and polls, then stops on SIGTERM', async () => {
    env = await createTestEnv();
    const child = spawn(bin('mail-runbooks-worker'), [], {
      cwd: dir,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: 'default',
        MRB_CONFIG: join(installed, 'docs/config.example.yaml'),
        MRB_TASK_QUEUE: 'package-test',
        MRB_METRICS_ADDRESS: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    const deadline = Date.now() + 150_000;
    while (!output.includes('worker: polling task queue package-test') && Date.now() < deadline) {
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    if (child.exitCode === null) child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000))]);
    if (code === 'timeout') child.kill('SIGKILL');
    expect(output).toContain(`worker: mail-runbooks ${VERSION}`);
    // The bundle `npm run build` made (dist/workflow-bundle.js): no webpack at start (issue 14, point 1).
    expect(output).toContain(
      `worker: workflow code from the prebuilt bundle ${join(installed, 'dist/workflow-bundle.js')}`,
    );
    expect(output).not.toMatch(/modules by path/);
    expect(output).toContain('worker: polling task queue package-test');
    expect(code, output).toBe(0);
  }, 180_000);
});
