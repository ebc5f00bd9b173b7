/**
 * A relay's commands with its flavour resolved, in one call: `relayCommandsFor(relay)` for a Linux relay
 * under supervisord or systemd, or a Windows relay kept alive by a Scheduled Task. Each check reads its
 * own output with the parser that fits the flavour, so no activity branches on the flavour.
 */
import type { AdministeredRelay } from '../config/schema.js';
import {
  parseGetProcess,
  parseNetstatListening,
  parseSs,
  parseSupervisorStatus,
  type ListeningEndpoint,
} from '../parsers/index.js';
import type { RemoteShell } from '../transports/index.js';
import { tail, type CommandCheck } from './output.js';
import { posixOnce, SSH_ONCE_BASE, windowsOnce, type OnceCommands } from './once.js';
import { relayLinuxCommands } from './relay-linux.js';
import { relayWindowsCommands } from './relay-windows.js';
import type { CatalogueCommand } from './types.js';

/** What the flavour needs from the relay's config: the flavour and its service. */
export type RelayFlavour = {
  [F in AdministeredRelay['flavour']]: Pick<
    Extract<AdministeredRelay, { flavour: F }>,
    'flavour' | 'service'
  >;
}[AdministeredRelay['flavour']];

/** The relay service as its manager reports it. */
export interface RelayServiceState {
  readonly running: boolean;
  /** The manager's own word (RUNNING, active, Ready, ...). */
  readonly state: string;
  readonly detail: string;
  readonly summary: string;
}

/** How long the relay service has run: a retried restart compares its start with the intent's time. */
export interface RelayServiceUptime {
  readonly running: boolean;
  /** Seconds since the service (its main process) started; absent when it does not run. */
  readonly uptimeSeconds?: number;
}

interface ServiceCommands {
  readonly serviceState: CommandCheck<RelayServiceState>;
  readonly serviceUptime: CommandCheck<RelayServiceUptime>;
  restartService(): CatalogueCommand;
  setServiceRunning(running: boolean): CatalogueCommand;
}

export interface RelayCommands extends ServiceCommands {
  /** The shell the relay's SSH server runs commands in (the transport quotes for it). */
  readonly shell: RemoteShell;
  /** Every TCP endpoint listening on the relay host. */
  readonly listeningPorts: CommandCheck<ListeningEndpoint[]>;
  tailLog(path: string, lines: number): CatalogueCommand;
  /** State-changing commands run once through this wrapper (commands/once.ts). */
  readonly once: OnceCommands;
}

function supervisorService(name: string): ServiceCommands {
  return {
    serviceState: async (runCommand) => {
      // Exit 3 (a program not RUNNING) is an answer; anything else means supervisord did not answer.
      const r = await runCommand(() => relayLinuxCommands.supervisorStatus(name), { mustSucceed: true });
      const program = parseSupervisorStatus(r.stdout).find((p) => p.name === name);
      const state = program?.state ?? 'UNKNOWN';
      return {
        running: state === 'RUNNING',
        state,
        detail: program?.description ?? tail(r.stdout, 200),
        summary: `relay program ${name} is ${state}`,
      };
    },
    serviceUptime: async (runCommand) => {
      const r = await runCommand(() => relayLinuxCommands.supervisorStatus(name), { mustSucceed: true });
      const program = parseSupervisorStatus(r.stdout).find((p) => p.name === name);
      return {
        running: program?.state === 'RUNNING',
        ...(program?.uptimeSeconds !== undefined && { uptimeSeconds: program.uptimeSeconds }),
      };
    },
    restartService: () => relayLinuxCommands.supervisorRestart(name),
    setServiceRunning: (running) => relayLinuxCommands.supervisorSet(name, running),
  };
}

function systemdService(name: string): ServiceCommands {
  return {
    serviceState: async (runCommand) => {
      const r = await runCommand(() => relayLinuxCommands.systemdIsActive(name), { mustSucceed: false });
      const state = r.stdout.trim() || `exit ${r.exitCode}`;
      return { running: state === 'active', state, detail: '', summary: `relay unit ${name} is ${state}` };
    },
    serviceUptime: async (runCommand) => {
      const r = await runCommand(() => relayLinuxCommands.systemdMainPid(name), { mustSucceed: true });
      const pid = Number(r.stdout.trim());
      if (!Number.isSafeInteger(pid) || pid <= 0) return { running: false };
      const age = await runCommand(() => relayLinuxCommands.processAge(pid), { mustSucceed: false });
      const seconds = Number(age.stdout.trim());
      return age.ok && age.stdout.trim() !== '' && Number.isFinite(seconds)
        ? { running: true, uptimeSeconds: seconds }
        : { running: false };
    },
    restartService: () => relayLinuxCommands.systemdRestart(name),
    setServiceRunning: (running) => relayLinuxCommands.systemdSet(name, running),
  };
}

const linuxListeningPorts: CommandCheck<ListeningEndpoint[]> = async (runCommand) =>
  parseSs((await runCommand(() => relayLinuxCommands.listeningPorts(), { mustSucceed: true })).stdout);

type WindowsService = Extract<RelayFlavour, { flavour: 'windows' }>['service'];

/** Running is judged by the relay process, not the task: the watchdog task can run while the relay is down. */
function windowsRelay(service: WindowsService): RelayCommands {
  const { name, process } = service;
  return {
    shell: 'powershell',
    listeningPorts: async (runCommand) =>
      parseNetstatListening(
        (await runCommand(() => relayWindowsCommands.listeningPorts(), { mustSucceed: true })).stdout,
      ),
    serviceState: async (runCommand) => {
      const task = await runCommand(() => relayWindowsCommands.scheduledTaskState(name), {
        mustSucceed: false,
      });
      const found = await runCommand(() => relayWindowsCommands.watchdogProcess(process), {
        mustSucceed: true,
      });
      const processes = parseGetProcess(found.stdout);
      const state = task.ok ? task.stdout.trim() : `unknown (${tail(task.stderr, 200)})`;
      return {
        running: processes.length > 0,
        state,
        detail: processes.map((p) => `${p.processName} pid ${p.id}`).join(', '),
        summary: `task ${name} is ${state}; ${processes.length} ${process} process(es)`,
      };
    },
    serviceUptime: async (runCommand) => {
      const r = await runCommand(() => relayWindowsCommands.processUptime(process), { mustSucceed: true });
      const seconds = Number(r.stdout.trim());
      return r.stdout.trim() === '' || !Number.isFinite(seconds)
        ? { running: false }
        : { running: true, uptimeSeconds: seconds };
    },
    restartService: () => relayWindowsCommands.restartScheduledTask(name),
    setServiceRunning: (running) =>
      running ? relayWindowsCommands.startScheduledTask(name) : relayWindowsCommands.stopScheduledTask(name),
    tailLog: relayWindowsCommands.tailLog,
    once: windowsOnce,
  };
}

export function relayCommandsFor(relay: RelayFlavour): RelayCommands {
  if (relay.flavour === 'windows') return windowsRelay(relay.service);
  const service =
    relay.service.manager === 'supervisor'
      ? supervisorService(relay.service.name)
      : systemdService(relay.service.name);
  return {
    shell: 'posix',
    listeningPorts: linuxListeningPorts,
    tailLog: relayLinuxCommands.tailLog,
    once: posixOnce(SSH_ONCE_BASE),
    ...service,
  };
}
