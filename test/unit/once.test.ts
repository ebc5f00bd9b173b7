/**
 * Exactly once (issue 11, point 1): the host-side wrapper's argv, the wrapper itself run by a local sh in
 * a temporary directory (claim, recorded exit, cut input, status, show), and the retry decisions of
 * runOnce against a fake host.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { runOnce, type AppliedCheck } from '../../src/activities/once.js';
import { COMMAND_LIMIT_MS, posixOnce, windowsOnce } from '../../src/commands/index.js';
import { command, type CatalogueCommand } from '../../src/commands/types.js';
import { parseOnceMarkers, parseOnceShow } from '../../src/parsers/index.js';
import type { ExecRequest, ExecResult, HostTransport } from '../../src/transports/index.js';
import { ACTION_BUDGET_MS } from '../../src/workflows/engine/policies.js';

const NAME = '00112233445566778899aabbccddeeff.1';
const PREFIX = '00112233445566778899aabbccddeeff';

const restart = command({
  argv: ['supervisorctl', 'restart', 'amavis'],
  timeoutMs: 90_000,
  maxOutputBytes: 16_384,
  stateChanging: true,
  description: 'Restart amavis',
});

describe('once wrapper commands', () => {
  it('wraps argv in a constant sh script with the marker, limit and input length as arguments', () => {
    const c = posixOnce('/var/lib/mail-runbooks/once').run(NAME, restart);
    expect(c.argv.slice(0, 2)).toEqual(['sh', '-c']);
    expect(c.argv.slice(3)).toEqual([
      'mrb-once',
      'run',
      '/var/lib/mail-runbooks/once',
      NAME,
      '90',
      '-',
      'supervisorctl',
      'restart',
      'amavis',
    ]);
    expect(c.timeoutMs).toBeGreaterThan(restart.timeoutMs);
    expect(c.stateChanging).toBe(true);
    const withInput = posixOnce('.cache/x').run(NAME, command({ ...restart, stdin: 'ABCDEF123\n' }));
    expect(withInput.argv[8]).toBe('10');
    expect(withInput.stdin).toBe('ABCDEF123\n');
  });

  it('refuses marker names and bases that are not plain', () => {
    const once = posixOnce('/var/lib/mail-runbooks/once');
    expect(() => once.run('../etc.1', restart)).toThrow(/once marker/);
    expect(() => once.status('x; rm -rf /')).toThrow(/once marker/);
    expect(() => posixOnce('/var/$(id)')).toThrow(/once marker base/);
    expect(() => posixOnce('../up')).toThrow(/once marker base/);
  });

  it('on Windows runs the catalogue PowerShell script encoded, and refuses anything else', () => {
    const inner = "Stop-ScheduledTask -TaskName 'Relay' -ErrorAction Stop";
    const c = windowsOnce.run(
      NAME,
      command({ ...restart, argv: ['powershell', '-NoProfile', '-NonInteractive', '-Command', inner] }),
    );
    expect(c.argv.slice(0, 4)).toEqual(['powershell', '-NoProfile', '-NonInteractive', '-Command']);
    const encoded = /-EncodedCommand', '([A-Za-z0-9+/=]+)'/.exec(c.argv[4]!)?.[1];
    expect(Buffer.from(encoded!, 'base64').toString('utf16le')).toBe(inner);
    expect(c.argv[4]).toContain(`'${NAME}'`);
    expect(() => windowsOnce.run(NAME, restart)).toThrow(/powershell/);
    expect(windowsOnce.status(PREFIX).argv[4]).toContain(`'${PREFIX}.*'`);
  });
});

describe('the POSIX wrapper, run by sh', () => {
  const base = mkdtempSync(join(tmpdir(), 'mrb-once-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  const once = posixOnce(base);
  const sh = (c: CatalogueCommand) => {
    const r = spawnSync(c.argv[0]!, c.argv.slice(1), { input: c.stdin ?? '', encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const script = (text: string, stdin?: string) =>
    command({ ...restart, argv: ['sh', '-c', text], ...(stdin !== undefined && { stdin }) });

  it('runs once, records the exit code and output, and refuses a second claim', () => {
    const first = sh(once.run(NAME, script('cat; echo err >&2; exit 3', 'ABC\n')));
    expect(first).toEqual({ code: 3, stdout: 'ABC\n', stderr: 'err\n' });
    const second = sh(once.run(NAME, script('echo again')));
    expect(second.code).toBe(121);
    expect(second.stderr).toMatch(/already started/);
    const status = parseOnceMarkers(sh(once.status(PREFIX)).stdout);
    expect(status.markers).toHaveLength(1);
    expect(status.markers[0]).toMatchObject({ name: NAME, exitCode: 3, alive: false });
    expect(status.markers[0]?.startedAt).toBeGreaterThan(0);
    expect(parseOnceShow(sh(once.show(NAME, 1000)).stdout)).toEqual({ exitCode: 3, stdout: 'ABC\n' });
  });

  it('stops the command at its own limit and records that, even without the worker', () => {
    const slow = command({ ...script('sleep 30'), timeoutMs: 1_000 });
    const began = Date.now();
    expect(sh(once.run(`${PREFIX}.3`, slow)).code).toBe(143);
    expect(Date.now() - began).toBeLessThan(10_000);
  });

  it('runs nothing when its standard input arrives cut', () => {
    const cut = once.run(`${PREFIX}.2`, script('touch ran', 'ABCDEF\n'));
    const r = spawnSync(cut.argv[0]!, cut.argv.slice(1), { input: 'ABC', encoding: 'utf8', cwd: base });
    expect(r.status).toBe(122);
    const names = parseOnceMarkers(sh(once.status(PREFIX)).stdout).markers.map((m) => m.name);
    expect(names).not.toContain(`${PREFIX}.2`);
  });
});

/** A fake host that answers the wrapper's modes from a list of markers, and counts runs. */
function fakeHost(markers: string[][], runExit = 0) {
  const runs: string[] = [];
  let statusCalls = 0;
  const host: HostTransport = {
    description: 'fake',
    close: async () => undefined,
    async exec(request: ExecRequest): Promise<ExecResult> {
      const mode = request.argv[4];
      const result = (stdout: string, exitCode = 0, stderr = ''): ExecResult => ({
        exitCode,
        stdout,
        stderr,
        durationMs: 1,
        truncated: { stdout: false, stderr: false },
      });
      if (mode === 'status') {
        const lines = markers[Math.min(statusCalls++, markers.length - 1)] ?? [];
        return result(['now 1000', ...lines].join('\n'));
      }
      if (mode === 'show') return result('exit 0\nrecorded output\n');
      runs.push(request.argv[6]!);
      return result('ran\n', runExit);
    },
  };
  return { on: { host, commands: { once: posixOnce('/m') } }, runs, statusCalls: () => statusCalls };
}

const asAttempt = <T>(attempt: number, fn: () => Promise<T>): Promise<T> =>
  new MockActivityEnvironment({ attempt }).run(fn);

describe('runOnce: a retry asks the host before acting', () => {
  const earlier = (fields: string) => `attempt ${PREFIX}.1 ${fields}`;
  const key = 'wf.run.restart-amavis';

  it("runs the command under this attempt's marker when nothing ran before", async () => {
    const fake = fakeHost([[]]);
    const r = await runOnce(fake.on, key, 'command', restart);
    expect(r.by).toBe('ran');
    expect(fake.runs).toEqual([expect.stringMatching(/^[0-9a-f]{32}\.1$/)]);
  });

  it("returns an earlier attempt's recorded result and runs nothing", async () => {
    const fake = fakeHost([[earlier('started=990 exit=0 alive=0')]]);
    const r = await asAttempt(2, () => runOnce(fake.on, key, 'command', restart));
    expect(r).toMatchObject({ by: 'recorded', stdout: 'recorded output\n' });
    expect(fake.runs).toEqual([]);
  });

  it('waits for an earlier attempt still running, then takes its result', async () => {
    const fake = fakeHost([[earlier('started=990 exit=- alive=1')], [earlier('started=990 exit=0 alive=0')]]);
    const r = await asAttempt(2, () => runOnce(fake.on, key, 'command', restart));
    expect(r.by).toBe('recorded');
    expect(fake.statusCalls()).toBe(2);
    expect(fake.runs).toEqual([]);
  });

  it('asks the host state when an earlier attempt died: done means nothing runs, not done runs again', async () => {
    const died = [[earlier('started=990 exit=- alive=0')]];
    const seen: number[] = [];
    const done: AppliedCheck = async ({ startedAt }) => (seen.push(startedAt), 'amavis runs since 995');
    const fake = fakeHost(died);
    expect((await asAttempt(2, () => runOnce(fake.on, key, 'command', restart, done))).by).toBe('host');
    expect(seen).toEqual([990]);
    expect(fake.runs).toEqual([]);

    const again = fakeHost(died);
    const r = await asAttempt(2, () => runOnce(again.on, key, 'command', restart, async () => undefined));
    expect(r.by).toBe('ran');
    expect(again.runs).toEqual([expect.stringMatching(/\.2$/)]);
  });

  it('without a host check: started-and-died counts as done, a reported failure runs again', async () => {
    const died = fakeHost([[earlier('started=990 exit=- alive=0')]]);
    expect((await asAttempt(2, () => runOnce(died.on, key, 'command', restart))).by).toBe('started');
    expect(died.runs).toEqual([]);
    const failed = fakeHost([[earlier('started=990 exit=1 alive=0')]]);
    expect((await asAttempt(2, () => runOnce(failed.on, key, 'command', restart))).by).toBe('ran');
    expect(failed.runs).toHaveLength(1);
  });

  it('a failing exit code of its own run is a retryable error (the next attempt finds it recorded)', async () => {
    const fake = fakeHost([[]], 1);
    await expect(runOnce(fake.on, key, 'command', restart)).rejects.toThrow(/exit 1/);
  });
});

describe('action timeouts', () => {
  it('come from the limits of the commands each action runs', () => {
    expect(ACTION_BUDGET_MS.restartProgram).toBeGreaterThan(2 * COMMAND_LIMIT_MS.supervisorControl);
    expect(ACTION_BUDGET_MS.restartRelayWatchdog).toBeGreaterThan(2 * COMMAND_LIMIT_MS.systemdControl);
    expect(ACTION_BUDGET_MS.requeueDeferred).toBeGreaterThan(2 * COMMAND_LIMIT_MS.postsuper);
    expect(ACTION_BUDGET_MS.flushQueue).toBeGreaterThan(2 * COMMAND_LIMIT_MS.queueFlush);
  });
});
