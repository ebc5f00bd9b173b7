import { describe, expect, it } from 'vitest';
import { CommandInputError, psSingleQuoted, relayWindowsCommands } from '../../src/commands/index.js';

const PS = ['powershell', '-NoProfile', '-NonInteractive', '-Command'];

describe('Windows relay catalogue (argv only: cannot run here)', () => {
  it('lists sockets with netstat -ano', () => {
    const c = relayWindowsCommands.listeningPorts();
    expect(c.argv).toEqual(['cmd', '/c', 'netstat', '-ano']);
    expect(c.stateChanging).toBe(false);
  });

  it('embeds the task name as one single-quoted PowerShell literal', () => {
    expect(relayWindowsCommands.stopScheduledTask('MailRelay2526Watchdog').argv).toEqual([
      ...PS,
      "Stop-ScheduledTask -TaskName 'MailRelay2526Watchdog' -ErrorAction Stop",
    ]);
    expect(relayWindowsCommands.startScheduledTask('Mail Relay (2526)').argv).toEqual([
      ...PS,
      "Start-ScheduledTask -TaskName 'Mail Relay (2526)' -ErrorAction Stop",
    ]);
    const restart = relayWindowsCommands.restartScheduledTask('MailRelay2526Watchdog');
    expect(restart.argv.at(-1)).toBe(
      "Stop-ScheduledTask -TaskName 'MailRelay2526Watchdog' -ErrorAction Stop; " +
        "Start-ScheduledTask -TaskName 'MailRelay2526Watchdog' -ErrorAction Stop",
    );
    expect(restart.stateChanging).toBe(true);
    expect(relayWindowsCommands.scheduledTaskState('MailRelay2526Watchdog').stateChanging).toBe(false);
  });

  it('refuses task names outside the strict charset', () => {
    for (const bad of [
      "x'; Remove-Item C:\\ -Recurse; '",
      'a$(whoami)',
      'a`b',
      'a"b',
      'a;b',
      'a\u2019b',
      '',
      'trailing ',
      '-x',
    ]) {
      expect(() => relayWindowsCommands.stopScheduledTask(bad), bad).toThrow(CommandInputError);
    }
  });

  it('doubles every kind of PowerShell single quote', () => {
    expect(psSingleQuoted("it's")).toBe("'it''s'");
    expect(psSingleQuoted('it\u2019s')).toBe("'it\u2019\u2019s'");
    expect(psSingleQuoted('$env:PATH')).toBe("'$env:PATH'");
  });

  it('reads the watchdog process and the log', () => {
    expect(relayWindowsCommands.watchdogProcess().argv).toEqual([
      ...PS,
      "Get-Process -Name 'python' -ErrorAction SilentlyContinue",
    ]);
    expect(relayWindowsCommands.tailLog('C:\\smtp_auth_relay_err.log', 10).argv).toEqual([
      ...PS,
      "Get-Content -LiteralPath 'C:\\smtp_auth_relay_err.log' -Tail 10 -ErrorAction Stop",
    ]);
    expect(() => relayWindowsCommands.watchdogProcess('python.exe; calc')).toThrow(/process name/);
    for (const bad of [
      'relay.log',
      '\\\\server\\share\\x.log',
      'C:\\a\\..\\b.log',
      "C:\\it's.log",
      'C:\\a*.log',
    ]) {
      expect(() => relayWindowsCommands.tailLog(bad, 10), bad).toThrow(CommandInputError);
    }
    expect(() => relayWindowsCommands.tailLog('C:\\x.log', 0)).toThrow(/1 to 5000/);
  });
});
