/** Mail server checks and actions: container state, supervisord programs, the mail log, start/stop, restart. */
import { mailServerCommandsFor, type CatalogueCommand } from '../commands/index.js';
import { parseMailLog, type SupervisorProgram } from '../parsers/index.js';
import type { StepOutcome } from '../shared/types.js';
import { onMailServer, targetConfig } from './context.js';
import { commandOnce, startedSinceIntent, type CommandOutcome } from './once.js';
import { outcome } from './outcome.js';
import { asFailure, commandRunner, runOk } from './run.js';
import { mailServerRuntime, type ServerState } from './server-runtime.js';
import { waitForOutcome } from './wait.js';

export type { ServerState } from './server-runtime.js';

/** Container (DMS) or Postfix service (plain host) running? ok = running. */
export async function mailServerState(targetName: string): Promise<StepOutcome<ServerState>> {
  return mailServerRuntime(await targetConfig(targetName)).state();
}

export interface ProgramsEvidence {
  programs: SupervisorProgram[];
  notRunning: string[];
}

/** supervisord programs that should run and do not (DMS); on a plain host, the Postfix unit. */
export async function supervisorPrograms(targetName: string): Promise<StepOutcome<ProgramsEvidence>> {
  const { host, commands } = await onMailServer(targetName);
  const { programs, notRunning, summary } = await commands.programs(commandRunner(host));
  return outcome(notRunning.length === 0, summary, { programs, notRunning });
}

export interface LogTail {
  lines: string[];
  deferred: number;
  bounced: number;
  sent: number;
  unparsed: number;
}

/**
 * The last lines of the mail log, with counts of delivery outcomes in them: evidence, not a verdict (a
 * bounce to a mistyped address is no server fault; the queue and the relay checks judge health).
 */
export async function mailLogTail(targetName: string): Promise<StepOutcome<LogTail>> {
  const { target, host, commands } = await onMailServer(targetName);
  const r = await runOk(host, () => commands.tailMailLog(target.thresholds.logTailLines));
  const log = parseMailLog(r.stdout);
  const count = (s: string) => log.entries.filter((e) => e.status === s).length;
  const evidence = {
    lines: r.stdout.split('\n').filter((l) => l !== ''),
    sent: count('sent'),
    deferred: count('deferred'),
    bounced: count('bounced'),
    unparsed: log.rejectedCount,
  };
  return outcome(
    true,
    `last ${evidence.lines.length} log lines: ${evidence.sent} sent, ${evidence.deferred} deferred, ${evidence.bounced} bounced`,
    evidence,
  );
}

/** Restarts one supervisord program of a DMS container (e.g. amavis); a plain host has none. */
export async function restartProgram(
  targetName: string,
  program: string,
  onceKey: string,
): Promise<CommandOutcome> {
  const target = await targetConfig(targetName);
  // Built before the host is reached: a plain host refuses it (non-retryable), whatever its state.
  let restart: CatalogueCommand;
  try {
    restart = mailServerCommandsFor(target.mailServer).restartProgram(program);
  } catch (err) {
    throw asFailure(err, 'restart');
  }
  const on = await onMailServer(target);
  // A retry after an earlier attempt died or failed: did supervisord spawn it since the intent?
  const spawnedSince = startedSinceIntent(program, async () => {
    const { programs } = await on.commands.programs(commandRunner(on.host));
    const found = programs.find((p) => p.name === program);
    return found?.state === 'RUNNING' ? found.uptimeSeconds : undefined;
  });
  return commandOnce(
    onceKey,
    on,
    () => restart,
    (output) => `restarted ${program}: ${output.split('\n').join('; ')}`,
    spawnedSince,
  );
}

/** Starts or stops the mail server: the container through the engine API, or the Postfix unit. */
export async function setMailServerRunning(
  targetName: string,
  running: boolean,
  onceKey: string,
): Promise<StepOutcome<{ done: string }>> {
  const runtime = mailServerRuntime(await targetConfig(targetName));
  return runtime.setRunning(running, onceKey);
}

/**
 * After a start: waits (bounded, 3 minutes) until the mail server is ready, i.e. the container's own
 * health check says healthy (DMS ships one) or, without one, it runs; a Postfix host's unit is active.
 */
export async function waitMailServerReady(targetName: string): Promise<StepOutcome<ServerState>> {
  return waitForOutcome(
    180,
    3_000,
    () => mailServerState(targetName),
    { done: 'mail server ready', notDone: 'mail server not ready' },
    (o) => o.ok && (o.evidence.health === undefined || o.evidence.health === 'healthy'),
  );
}
