/**
 * A relay's commands with its flavour resolved, in one call: `relayCommandsFor(relay)` for a Linux relay
 * under supervisord or systemd, or a Windows relay kept alive by a Scheduled Task. Each check reads its
 * own output with the parser that fits the flavour, so no activity branches on the flavour.
 */
import type { Relay } from '../config/schema.js';
import {
  parseGetProcess,
  parseNetstatListening,
  parseSs,
  parseSupervisorStatus,
  type ListeningEndpoint,
} from '../parsers/index.js';
import type { RemoteShell } from '../transports/index.js';
import { tail, type CommandCheck } from './output.js';
import { relayLinuxCommands } from './relay-linux.js';
import { relayWindowsCommands } from './relay-windows.js';
import type { CatalogueCommand } from './types.js';

/** What the flavour needs from the relay's config: the flavour and its service. */
export type RelayFlavour = {
  [F in Relay['flavour']]: Pick<Extract<Relay, { flavour: F }>, 'flavour' | 'service'>;
}[Relay['flavour']];

/** The relay service as its manager reports it. */
export interface RelayServiceState {
  readonly running: boolean;
  /** The manager's own word (RUNNING, active, Ready, ...). */
  readonly state: string;
  readonly detail: string;
  readonly summary: string;
}

interface ServiceCommands {
  readonly serviceState: CommandCheck<RelayServiceState>;
  restartService(): CatalogueCommand;
  setServiceRunning(running: boolean): CatalogueCommand;
}

export interface RelayCommands extends ServiceCommands {
  /** The shell the relay's SSH server runs commands in (the transport quotes for it). */
  readonly shell: RemoteShell;
  /** Every TCP endpoint listening on the relay host. */
  readonly listeningPorts: CommandCheck<ListeningEndpoint[]>;
  tailLog(path: string, lines: number): CatalogueCommand;
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
    restartService: () => relayWindowsCommands.restartScheduledTask(name),
    setServiceRunning: (running) =>
      running ? relayWindowsCommands.startScheduledTask(name) : relayWindowsCommands.stopScheduledTask(name),
    tailLog: relayWindowsCommands.tailLog,
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
    ...service,
  };
}
