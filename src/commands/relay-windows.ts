/**
 * A Windows relay host reached over OpenSSH (the setup the runbooks were written for: a Python relay on 2526
 * kept alive by a Scheduled Task watchdog). These commands cannot run on Linux; unit tests check the argv.
 *
 * PowerShell has no argv-level API for cmdlet parameters, so each command is one `-Command` script built
 * only from constants and validated values, each value embedded as a single-quoted PowerShell literal
 * (no variable expansion or subexpressions inside '...'). Values are first checked against a strict ASCII
 * charset, so the quoting is a second line of defence, not the only one.
 */
import { COMMAND_LIMIT_MS } from './limits.js';
import { command, CommandInputError, KIB, SECOND, type CatalogueCommand } from './types.js';
import { boundedInt, printable } from './validate.js';
import { MAX_TAIL_LINES } from './posix.js';

export const POWERSHELL = ['powershell', '-NoProfile', '-NonInteractive', '-Command'] as const;

/**
 * A single-quoted PowerShell string literal. PowerShell treats the typographic quotes U+2018..U+201B as
 * single quotes too, so every one of them is doubled, not only the ASCII one.
 */
export function psSingleQuoted(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201A\u201B]/g, (q) => q + q)}'`;
}

export function windowsTaskName(value: string, field = 'task name'): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9 _.()-]{0,199}$/.test(value) || value.endsWith(' ')) {
    throw new CommandInputError(
      field,
      `'${printable(value)}' must be a task name of letters, digits, space and _ . ( ) - (max 200)`,
    );
  }
  return value;
}

export function windowsProcessName(value: string, field = 'process name'): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(value)) {
    throw new CommandInputError(
      field,
      `'${printable(value)}' must be a process name like python (no .exe path)`,
    );
  }
  return value;
}

/** Absolute local Windows path such as C:\smtp_auth_relay.log: drive letter, no UNC, no '..', no quotes. */
export function windowsPath(value: string, field = 'path'): string {
  const ok = /^[A-Za-z]:\\(?:[A-Za-z0-9 _.()-]+\\)*[A-Za-z0-9 _.()-]+$/.test(value) && value.length <= 260;
  if (!ok || value.split('\\').some((s) => s === '..' || s === '.')) {
    throw new CommandInputError(
      field,
      `'${printable(value)}' must be an absolute path like C:\\logs\\relay.log (letters, digits, space, _ . ( ) -)`,
    );
  }
  return value;
}

function powershell(script: string, spec: Omit<Parameters<typeof command>[0], 'argv'>): CatalogueCommand {
  return command({ ...spec, argv: [...POWERSHELL, script] });
}

export const relayWindowsCommands = {
  /** All sockets with owning PIDs; parsers/netstat-windows.ts keeps the LISTENING rows. */
  listeningPorts: (): CatalogueCommand =>
    command({
      argv: ['cmd', '/c', 'netstat', '-ano'],
      timeoutMs: 20 * SECOND,
      maxOutputBytes: 2 * 1024 * KIB,
      stateChanging: false,
      description: 'List sockets with owning process ids (netstat -ano)',
    }),

  /** Default Get-Process table; no output (and exit 0) when none runs, thanks to SilentlyContinue. */
  watchdogProcess: (name = 'python'): CatalogueCommand => {
    const n = windowsProcessName(name);
    return powershell(`Get-Process -Name ${psSingleQuoted(n)} -ErrorAction SilentlyContinue`, {
      timeoutMs: 20 * SECOND,
      maxOutputBytes: 64 * KIB,
      stateChanging: false,
      description: `Show running ${n} processes (Get-Process)`,
    });
  },

  /** Seconds the newest process of that name has run; no output when none runs. */
  processUptime: (name = 'python'): CatalogueCommand => {
    const n = windowsProcessName(name);
    return powershell(
      `Get-Process -Name ${psSingleQuoted(n)} -ErrorAction SilentlyContinue | Sort-Object StartTime -Descending | Select-Object -First 1 | ForEach-Object { [int]((Get-Date) - $_.StartTime).TotalSeconds }`,
      {
        timeoutMs: 20 * SECOND,
        maxOutputBytes: 4 * KIB,
        stateChanging: false,
        description: `Show how long the newest ${n} process has run (Get-Process)`,
      },
    );
  },

  scheduledTaskState: (taskName: string): CatalogueCommand => {
    const t = windowsTaskName(taskName);
    return powershell(`(Get-ScheduledTask -TaskName ${psSingleQuoted(t)} -ErrorAction Stop).State`, {
      timeoutMs: 20 * SECOND,
      maxOutputBytes: 4 * KIB,
      stateChanging: false,
      description: `Show the state of scheduled task ${t} (Get-ScheduledTask)`,
    });
  },

  stopScheduledTask: (taskName: string): CatalogueCommand => {
    const t = windowsTaskName(taskName);
    return powershell(`Stop-ScheduledTask -TaskName ${psSingleQuoted(t)} -ErrorAction Stop`, {
      timeoutMs: COMMAND_LIMIT_MS.scheduledTask,
      maxOutputBytes: 16 * KIB,
      stateChanging: true,
      description: `Stop scheduled task ${t} (Stop-ScheduledTask)`,
    });
  },

  startScheduledTask: (taskName: string): CatalogueCommand => {
    const t = windowsTaskName(taskName);
    return powershell(`Start-ScheduledTask -TaskName ${psSingleQuoted(t)} -ErrorAction Stop`, {
      timeoutMs: COMMAND_LIMIT_MS.scheduledTask,
      maxOutputBytes: 16 * KIB,
      stateChanging: true,
      description: `Start scheduled task ${t} (Start-ScheduledTask)`,
    });
  },

  /** Stop then start in one session, as operators do it by hand; the start runs only if the stop succeeded. */
  restartScheduledTask: (taskName: string): CatalogueCommand => {
    const q = psSingleQuoted(windowsTaskName(taskName));
    return powershell(
      `Stop-ScheduledTask -TaskName ${q} -ErrorAction Stop; Start-ScheduledTask -TaskName ${q} -ErrorAction Stop`,
      {
        timeoutMs: COMMAND_LIMIT_MS.scheduledTaskRestart,
        maxOutputBytes: 16 * KIB,
        stateChanging: true,
        description: `Restart scheduled task ${taskName} (Stop-ScheduledTask; Start-ScheduledTask)`,
      },
    );
  },

  /** -LiteralPath: the path is not a wildcard pattern. */
  tailLog: (path: string, lines: number): CatalogueCommand => {
    const p = windowsPath(path, 'relay log path');
    const n = boundedInt(lines, 1, MAX_TAIL_LINES, 'lines');
    return powershell(`Get-Content -LiteralPath ${psSingleQuoted(p)} -Tail ${n} -ErrorAction Stop`, {
      timeoutMs: 20 * SECOND,
      maxOutputBytes: Math.min(n * 2 * KIB, 8 * 1024 * KIB),
      stateChanging: false,
      description: `Last ${n} lines of the relay log (${p})`,
    });
  },
} as const;
