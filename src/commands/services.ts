/**
 * Service managers: supervisord (DMS, and relays run under supervisor) and systemd (plain hosts, relays).
 * Program/unit names are validated here; flavour modules narrow them further (DMS's known programs).
 */
import { COMMAND_LIMIT_MS } from './limits.js';
import { command, KIB, SECOND, type CatalogueCommand } from './types.js';
import { supervisorProgramName, systemdUnit } from './validate.js';

/** `supervisorctl status [program]`; exits 3 when a listed program is not RUNNING, which is still an answer. */
export function supervisorStatus(program?: string): CatalogueCommand {
  const name = program === undefined ? undefined : supervisorProgramName(program);
  return command({
    argv: ['supervisorctl', 'status', ...(name ? [name] : [])],
    timeoutMs: 15 * SECOND,
    maxOutputBytes: 64 * KIB,
    stateChanging: false,
    description: `Show supervisord program state${name ? ` of ${name}` : 's'} (supervisorctl status)`,
    okExitCodes: [0, 3],
  });
}

export function supervisorRestart(program: string): CatalogueCommand {
  const name = supervisorProgramName(program);
  return command({
    argv: ['supervisorctl', 'restart', name],
    // supervisord waits for stopwaitsecs and startsecs; amavis can take half a minute to come up.
    timeoutMs: COMMAND_LIMIT_MS.supervisorControl,
    maxOutputBytes: 16 * KIB,
    stateChanging: true,
    description: `Restart supervisord program ${name} (supervisorctl restart)`,
  });
}

/** `systemctl is-active UNIT` prints active/inactive/failed/...; exits 3 when not active (still an answer). */
export function systemdIsActive(unit: string): CatalogueCommand {
  const name = systemdUnit(unit);
  return command({
    argv: ['systemctl', 'is-active', '--', name],
    timeoutMs: 15 * SECOND,
    maxOutputBytes: 4 * KIB,
    stateChanging: false,
    description: `Show whether systemd unit ${name} is active (systemctl is-active)`,
    okExitCodes: [0, 3, 4],
  });
}

export function systemdRestart(unit: string): CatalogueCommand {
  const name = systemdUnit(unit);
  return command({
    argv: ['systemctl', 'restart', '--', name],
    timeoutMs: COMMAND_LIMIT_MS.systemdControl,
    maxOutputBytes: 16 * KIB,
    stateChanging: true,
    description: `Restart systemd unit ${name} (systemctl restart)`,
  });
}

/** `supervisorctl start|stop program`: the start/stop runbook. */
export function supervisorSet(program: string, running: boolean): CatalogueCommand {
  const name = supervisorProgramName(program);
  const verb = running ? 'start' : 'stop';
  return command({
    argv: ['supervisorctl', verb, name],
    timeoutMs: COMMAND_LIMIT_MS.supervisorControl,
    maxOutputBytes: 16 * KIB,
    stateChanging: true,
    description: `${running ? 'Start' : 'Stop'} supervisord program ${name} (supervisorctl ${verb})`,
  });
}

/** `systemctl start|stop UNIT`: the start/stop runbook. */
export function systemdSet(unit: string, running: boolean): CatalogueCommand {
  const name = systemdUnit(unit);
  const verb = running ? 'start' : 'stop';
  return command({
    argv: ['systemctl', verb, '--', name],
    timeoutMs: COMMAND_LIMIT_MS.systemdControl,
    maxOutputBytes: 16 * KIB,
    stateChanging: true,
    description: `${running ? 'Start' : 'Stop'} systemd unit ${name} (systemctl ${verb})`,
  });
}

/** The main process id of a unit (0 when it does not run): a retried restart asks how long it has run. */
export function systemdMainPid(unit: string): CatalogueCommand {
  const name = systemdUnit(unit);
  return command({
    argv: ['systemctl', 'show', '--property=MainPID', '--value', '--', name],
    timeoutMs: 15 * SECOND,
    maxOutputBytes: 4 * KIB,
    stateChanging: false,
    description: `Show the main process id of systemd unit ${name} (systemctl show)`,
  });
}
