/**
 * Flavours are resolved in src/commands/: relayCommandsFor and mailServerCommandsFor give each flavour's
 * argv and read its captured output; src/activities/ never branches on a flavour itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CommandInputError,
  mailServerCommandsFor,
  relayCommandsFor,
  type CatalogueCommand,
  type CommandOutput,
  type RunCommand,
} from '../../src/commands/index.js';
import { parseConfig } from '../../src/config/load.js';
import type { AdministeredRelay, Target } from '../../src/config/schema.js';
import { readFixture } from '../fixtures/read-fixture.js';
import { FULL } from './config-fixture.js';

const targets = parseConfig(FULL, 'test.yaml').targets;
function target(name: string): Target {
  const found = targets.find((t) => t.name === name);
  if (!found) throw new Error(`no target ${name} in the config fixture`);
  return found;
}
function administered(name: string): AdministeredRelay {
  const relay = target(name).relay;
  if (relay.flavour === 'provider') throw new Error(`target ${name} has a provider relay`);
  return relay;
}
// The fixture's three administered relay flavours and both mail server kinds.
const supervisorRelay = administered('lab'); // linux, supervisor program smtp-relay
const systemdRelay = administered('remote'); // linux, systemd unit smtp-relay.service
const windowsRelay = administered('edge'); // windows, task "Relay Watchdog", process python
const dmsServer = target('lab').mailServer;
const postfixServer = target('edge').mailServer;

interface Answer {
  stdout?: string;
  stderr?: string;
  exitCode: number | null;
}

/** A RunCommand that answers by argv and records what was asked, as an activity's transport would run it. */
function fakeRunner(answers: Record<string, Answer>) {
  const calls: Array<{ argv: readonly string[]; mustSucceed: boolean }> = [];
  const runCommand: RunCommand = async (build, { mustSucceed }) => {
    const c: CatalogueCommand = build();
    calls.push({ argv: c.argv, mustSucceed });
    const answer = answers[c.argv.join(' ')];
    if (!answer) throw new Error(`unexpected command: ${c.argv.join(' ')}`);
    const output: CommandOutput = {
      stdout: answer.stdout ?? '',
      stderr: answer.stderr ?? '',
      exitCode: answer.exitCode,
      ok: answer.exitCode !== null && c.okExitCodes.includes(answer.exitCode),
    };
    if (mustSucceed && !output.ok) throw new Error(`failed: ${c.argv.join(' ')}`);
    return output;
  };
  return { runCommand, calls };
}

const PS = 'powershell -NoProfile -NonInteractive -Command';

describe('relayCommandsFor', () => {
  it('gives each flavour its shell, service actions and log tail', () => {
    const supervisor = relayCommandsFor(supervisorRelay);
    const systemd = relayCommandsFor(systemdRelay);
    const windows = relayCommandsFor(windowsRelay);

    expect([supervisor.shell, systemd.shell, windows.shell]).toEqual(['posix', 'posix', 'powershell']);

    expect(supervisor.restartService().argv).toEqual(['supervisorctl', 'restart', 'smtp-relay']);
    expect(supervisor.setServiceRunning(true).argv).toEqual(['supervisorctl', 'start', 'smtp-relay']);
    expect(supervisor.setServiceRunning(false).argv).toEqual(['supervisorctl', 'stop', 'smtp-relay']);

    expect(systemd.restartService().argv).toEqual(['systemctl', 'restart', '--', 'smtp-relay.service']);
    expect(systemd.setServiceRunning(true).argv).toEqual(['systemctl', 'start', '--', 'smtp-relay.service']);
    expect(systemd.setServiceRunning(false).argv).toEqual(['systemctl', 'stop', '--', 'smtp-relay.service']);

    expect(windows.restartService().argv.at(-1)).toBe(
      "Stop-ScheduledTask -TaskName 'Relay Watchdog' -ErrorAction Stop; Start-ScheduledTask -TaskName 'Relay Watchdog' -ErrorAction Stop",
    );
    expect(windows.setServiceRunning(true).argv.at(-1)).toBe(
      "Start-ScheduledTask -TaskName 'Relay Watchdog' -ErrorAction Stop",
    );
    expect(windows.setServiceRunning(false).argv.at(-1)).toBe(
      "Stop-ScheduledTask -TaskName 'Relay Watchdog' -ErrorAction Stop",
    );
    for (const c of [
      supervisor.restartService(),
      systemd.setServiceRunning(false),
      windows.restartService(),
      windows.setServiceRunning(true),
    ]) {
      expect(c.stateChanging).toBe(true);
    }

    expect(supervisor.tailLog('/var/log/smtp-relay/relay.log', 50).argv).toEqual([
      'tail',
      '-n',
      '50',
      '--',
      '/var/log/smtp-relay/relay.log',
    ]);
    expect(windows.tailLog('C:\\relay\\relay.log', 50).argv.at(-1)).toBe(
      "Get-Content -LiteralPath 'C:\\relay\\relay.log' -Tail 50 -ErrorAction Stop",
    );
    // Each flavour validates paths its own way.
    expect(() => windows.tailLog('/var/log/relay.log', 5)).toThrow(CommandInputError);
    expect(() => systemd.tailLog('C:\\relay\\relay.log', 5)).toThrow(CommandInputError);
  });

  it('reads listening ports with ss on Linux and netstat -ano on Windows', async () => {
    const linux = fakeRunner({ 'ss -tln': { stdout: readFixture('ss-tln.txt'), exitCode: 0 } });
    for (const relay of [supervisorRelay, systemdRelay]) {
      const ports = await relayCommandsFor(relay).listeningPorts(linux.runCommand);
      expect(ports.map((p) => p.port)).toEqual(expect.arrayContaining([25, 587, 10025]));
    }
    expect(linux.calls).toEqual([
      { argv: ['ss', '-tln'], mustSucceed: true },
      { argv: ['ss', '-tln'], mustSucceed: true },
    ]);

    const windows = fakeRunner({
      'cmd /c netstat -ano': { stdout: readFixture('windows-netstat-ano.txt'), exitCode: 0 },
    });
    const ports = await relayCommandsFor(windowsRelay).listeningPorts(windows.runCommand);
    expect(ports).toContainEqual(expect.objectContaining({ address: '0.0.0.0', port: 2526, pid: 4242 }));
    // Established and TIME_WAIT rows are no listeners.
    expect(ports.filter((p) => p.port === 2526)).toHaveLength(1);
    expect(windows.calls).toEqual([{ argv: ['cmd', '/c', 'netstat', '-ano'], mustSucceed: true }]);
  });

  it('reads a supervisord relay program from supervisorctl status', async () => {
    const status = readFixture('supervisorctl-status.txt').replace(/^amavis /m, 'smtp-relay ');
    const { runCommand, calls } = fakeRunner({
      'supervisorctl status smtp-relay': { stdout: status, exitCode: 3 },
    });
    const state = await relayCommandsFor(supervisorRelay).serviceState(runCommand);
    expect(state).toEqual({
      running: false,
      state: 'STOPPED',
      detail: 'Nov 22 03:23 AM',
      summary: 'relay program smtp-relay is STOPPED',
    });
    // supervisord not answering is no verdict: the run must fail.
    expect(calls).toEqual([{ argv: ['supervisorctl', 'status', 'smtp-relay'], mustSucceed: true }]);

    const running = fakeRunner({
      'supervisorctl status smtp-relay': {
        stdout: 'smtp-relay                       RUNNING   pid 1943, uptime 0:00:07\n',
        exitCode: 0,
      },
    });
    expect(await relayCommandsFor(supervisorRelay).serviceState(running.runCommand)).toMatchObject({
      running: true,
      state: 'RUNNING',
    });
  });

  it('reads a systemd relay unit from systemctl is-active', async () => {
    const answers = (stdout: string, exitCode: number) =>
      fakeRunner({ 'systemctl is-active -- smtp-relay.service': { stdout, exitCode } }).runCommand;
    const systemd = relayCommandsFor(systemdRelay);
    expect(await systemd.serviceState(answers('active\n', 0))).toEqual({
      running: true,
      state: 'active',
      detail: '',
      summary: 'relay unit smtp-relay.service is active',
    });
    expect(await systemd.serviceState(answers('failed\n', 3))).toMatchObject({
      running: false,
      state: 'failed',
    });
    expect(await systemd.serviceState(answers('', 4))).toMatchObject({ running: false, state: 'exit 4' });
  });

  it('judges a Windows relay by its process, with the task state as evidence', async () => {
    const taskState = `${PS} (Get-ScheduledTask -TaskName 'Relay Watchdog' -ErrorAction Stop).State`;
    const processes = `${PS} Get-Process -Name 'python' -ErrorAction SilentlyContinue`;
    const up = fakeRunner({
      [taskState]: { stdout: 'Running\r\n', exitCode: 0 },
      [processes]: { stdout: readFixture('windows-get-process-ps51.txt'), exitCode: 0 },
    });
    expect(await relayCommandsFor(windowsRelay).serviceState(up.runCommand)).toEqual({
      running: true,
      state: 'Running',
      detail: 'python pid 4242, python pid 5120',
      summary: 'task Relay Watchdog is Running; 2 python process(es)',
    });
    expect(up.calls.map((c) => c.mustSucceed)).toEqual([false, true]);

    const down = fakeRunner({
      [taskState]: { stderr: 'No MSFT_ScheduledTask objects found', exitCode: 1 },
      [processes]: { stdout: '', exitCode: 0 },
    });
    expect(await relayCommandsFor(windowsRelay).serviceState(down.runCommand)).toEqual({
      running: false,
      state: 'unknown (No MSFT_ScheduledTask objects found)',
      detail: '',
      summary: 'task Relay Watchdog is unknown (No MSFT_ScheduledTask objects found); 0 python process(es)',
    });
  });
});

describe('mailServerCommandsFor', () => {
  const dms = mailServerCommandsFor(dmsServer);
  const postfix = mailServerCommandsFor(postfixServer);

  it("shares Postfix's tools and tails each kind's configured mail log", () => {
    expect(dms.queueJson().argv.slice(3)).toEqual(['queue-json', 'postqueue', '-j']);
    expect(postfix.queueJson().argv).toEqual(dms.queueJson().argv);
    expect(postfix.listeningSockets().argv).toEqual(['ss', '-tlnp']);
    expect(dms.tailMailLog(20).argv).toEqual(['tail', '-n', '20', '--', '/var/log/mail/mail.log']);
    // The plain host's log path comes from the config's default.
    expect(postfix.tailMailLog(20).argv).toEqual(['tail', '-n', '20', '--', '/var/log/mail.log']);
    expect(
      mailServerCommandsFor({ kind: 'postfix', mailLog: '/var/log/maillog' }).tailMailLog(5).argv,
    ).toEqual(['tail', '-n', '5', '--', '/var/log/maillog']);
  });

  it('restarts DMS programs and refuses to on a plain host', () => {
    expect(dms.restartProgram('amavis').argv).toEqual(['supervisorctl', 'restart', 'amavis']);
    expect(() => dms.restartProgram('mailserver')).toThrow(/start script/);
    expect(() => dms.restartProgram('amavisd')).toThrow(/not a docker-mailserver program/);
    expect(() => postfix.restartProgram('amavis')).toThrow(CommandInputError);
  });

  it("names DMS's SASL source file, which a password fix must change too", () => {
    expect(dms.saslPasswordSources).toEqual(['/tmp/docker-mailserver/postfix-sasl-password.cf']);
    expect(postfix.saslPasswordSources).toEqual([]);
  });

  it("reads DMS's supervisord programs, leaving programs off by configuration alone", async () => {
    const { runCommand, calls } = fakeRunner({
      'supervisorctl status': { stdout: readFixture('supervisorctl-status.txt'), exitCode: 3 },
    });
    const state = await dms.programs(runCommand);
    expect(state.programs.map((p) => p.name)).toEqual([
      'amavis',
      'clamav',
      'fetchmail',
      'postfix',
      'rsyslog',
    ]);
    expect(state.notRunning).toEqual(['amavis', 'clamav']);
    expect(state.summary).toBe('not running: amavis STOPPED, clamav FATAL');
    expect(calls).toEqual([{ argv: ['supervisorctl', 'status'], mustSucceed: true }]);
  });

  it("reads a plain host's Postfix unit", async () => {
    const unit = 'systemctl is-active -- postfix@-';
    const active = fakeRunner({ [unit]: { stdout: 'active\n', exitCode: 0 } });
    expect(await postfix.programs(active.runCommand)).toEqual({
      programs: [],
      notRunning: [],
      summary: 'postfix unit is active',
    });
    expect(active.calls).toEqual([{ argv: unit.split(' '), mustSucceed: false }]);
    const failed = fakeRunner({ [unit]: { stdout: 'failed\n', exitCode: 3 } });
    expect(await postfix.programs(failed.runCommand)).toEqual({
      programs: [],
      notRunning: ['postfix'],
      summary: 'postfix unit is failed',
    });
  });
});

describe('src/activities/', () => {
  // The activity context builds each kind's transport (Docker engine or SSH) and runtime (container or
  // systemd unit): those two files are where the mail server's kind is resolved, once.
  const RESOLVE_KIND = new Set(['context.ts', 'server-runtime.ts']);
  const dir = fileURLToPath(new URL('../../src/activities', import.meta.url));
  const FLAVOUR_BRANCH =
    /\b(?:flavour|manager)\s*[!=]==|\bkind\s*[!=]==\s*'(?:dms|postfix)'|case\s+'(?:dms|postfix|linux|windows|supervisor|systemd|scheduled-task)'|'windows'/;

  it('never branches on a relay flavour or a mail server kind', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    const found = files
      .filter((f) => !RESOLVE_KIND.has(f))
      .flatMap((f) =>
        readFileSync(join(dir, f), 'utf8')
          .split('\n')
          .map((line, i) => ({ where: `${f}:${i + 1}`, line: line.trim() }))
          .filter(({ line }) => FLAVOUR_BRANCH.test(line)),
      );
    expect(found).toEqual([]);
  });

  it('resolves the relay flavour nowhere, not even in the context', () => {
    for (const f of RESOLVE_KIND) {
      expect(readFileSync(join(dir, f), 'utf8')).not.toMatch(/\bflavour\b|\bmanager\b|'windows'/);
    }
  });
});
