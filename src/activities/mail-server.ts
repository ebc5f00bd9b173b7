/** Mail server checks and actions: container state, supervisord programs, the mail log, start/stop, restart. */
import { ApplicationFailure } from '@temporalio/activity';
import { dmsCommands, dmsProgram, postfixHostCommands } from '../commands/index.js';
import { parseMailLog, parseSupervisorStatus, type SupervisorProgram } from '../parsers/index.js';
import type { StepOutcome } from '../shared/types.js';
import { mailServerEngine, mailServerHost, targetConfig } from './context.js';
import { mailCommands } from './mail-commands.js';
import { commandOnce, once } from './once.js';
import { configError, outcome } from './outcome.js';
import { asFailure, run, runOk, tail } from './run.js';
import { waitForOutcome } from './wait.js';
import { ERROR_TYPE } from '../shared/errors.js';

export interface ServerState {
  kind: 'dms' | 'postfix';
  where: string;
  state: string;
  running: boolean;
  startedAt?: string;
  restartCount?: number;
  health?: string;
}

async function containerState(targetName: string): Promise<ServerState> {
  const target = await targetConfig(targetName);
  if (target.mailServer.kind !== 'dms') throw configError('not a container');
  const engine = await mailServerEngine(target);
  const name = target.mailServer.docker.container;
  try {
    const info = await engine.docker.getContainer(name).inspect();
    return {
      kind: 'dms',
      where: `container ${name} @ ${engine.description}`,
      state: info.State.Status,
      running: info.State.Running,
      startedAt: info.State.StartedAt,
      restartCount: info.RestartCount,
      ...(info.State.Health?.Status && { health: info.State.Health.Status }),
    };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) {
      throw ApplicationFailure.nonRetryable(
        `container ${name} does not exist on ${engine.description}`,
        ERROR_TYPE.notFound,
      );
    }
    throw asFailure(err, `docker inspect ${name}`);
  }
}

/** Container (DMS) or Postfix service (plain host) running? ok = running. */
export async function mailServerState(targetName: string): Promise<StepOutcome<ServerState>> {
  const target = await targetConfig(targetName);
  if (target.mailServer.kind === 'dms') {
    const s = await containerState(targetName);
    return outcome(s.running, `${s.where} is ${s.state}${s.health ? ` (${s.health})` : ''}`, s);
  }
  const host = await mailServerHost(target);
  const r = await run(host, () => postfixHostCommands.serviceIsActive());
  const state = r.stdout.trim() || `exit ${r.exitCode}`;
  const running = state === 'active';
  return outcome(running, `postfix on ${host.description} is ${state}`, {
    kind: 'postfix',
    where: host.description,
    state,
    running,
  });
}

export interface ProgramsEvidence {
  programs: SupervisorProgram[];
  notRunning: string[];
}

/** supervisord programs that should run and do not (DMS); on a plain host, the Postfix unit. */
export async function supervisorPrograms(targetName: string): Promise<StepOutcome<ProgramsEvidence>> {
  const target = await targetConfig(targetName);
  const host = await mailServerHost(target);
  if (target.mailServer.kind !== 'dms') {
    const r = await run(host, () => postfixHostCommands.serviceIsActive());
    const state = r.stdout.trim();
    const notRunning = state === 'active' ? [] : ['postfix'];
    return outcome(notRunning.length === 0, `postfix unit is ${state || `exit ${r.exitCode}`}`, {
      programs: [],
      notRunning,
    });
  }
  const r = await run(host, () => dmsCommands.supervisorStatus());
  if (!r.ok) {
    throw ApplicationFailure.retryable(
      `supervisorctl status failed (exit ${r.exitCode}): ${tail(r.stderr || r.stdout, 300)}`,
      'CommandFailed',
    );
  }
  const programs = parseSupervisorStatus(r.stdout);
  // STOPPED with "Not started" is a program DMS leaves off by configuration (autostart=false): not a fault.
  const notRunning = programs
    .filter((p) => p.state !== 'RUNNING' && !(p.state === 'STOPPED' && p.description === 'Not started'))
    .map((p) => p.name);
  const running = programs.filter((p) => p.state === 'RUNNING').length;
  return outcome(
    notRunning.length === 0,
    notRunning.length
      ? `not running: ${programs
          .filter((p) => notRunning.includes(p.name))
          .map((p) => `${p.name} ${p.state}`)
          .join(', ')}`
      : `${running} supervisord programs running`,
    { programs, notRunning },
  );
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
  const target = await targetConfig(targetName);
  const host = await mailServerHost(target);
  const r = await runOk(host, () => mailCommands(target).tailMailLog(target.thresholds.logTailLines));
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

/** Restarts one supervisord program of a DMS container (e.g. amavis). */
export async function restartProgram(
  targetName: string,
  program: string,
  onceKey: string,
): Promise<StepOutcome<{ output: string }>> {
  const target = await targetConfig(targetName);
  if (target.mailServer.kind !== 'dms')
    throw configError(`target ${target.name} has no supervisord programs`);
  try {
    dmsProgram(program, true);
  } catch (err) {
    throw asFailure(err, 'restart');
  }
  return commandOnce(
    onceKey,
    await mailServerHost(target),
    () => dmsCommands.supervisorRestart(program),
    (output) => `restarted ${program}: ${output.split('\n').join('; ')}`,
  );
}

/** Starts or stops the mail server: the container through the engine API, or the Postfix unit. */
export async function setMailServerRunning(
  targetName: string,
  running: boolean,
  onceKey: string,
): Promise<StepOutcome<{ done: string }>> {
  const target = await targetConfig(targetName);
  return once(onceKey, async () => {
    if (target.mailServer.kind === 'postfix') {
      const host = await mailServerHost(target);
      await runOk(host, () => postfixHostCommands.serviceSet(running));
      return outcome(true, `postfix ${running ? 'started' : 'stopped'} on ${host.description}`, {
        done: running ? 'start' : 'stop',
      });
    }
    const engine = await mailServerEngine(target);
    const name = target.mailServer.docker.container;
    const container = engine.docker.getContainer(name);
    try {
      if (running) await container.start();
      else await container.stop({ t: 30 });
    } catch (err) {
      // 304: already in the wanted state, which is what a retried start/stop should find.
      if ((err as { statusCode?: number }).statusCode !== 304)
        throw asFailure(err, `docker ${running ? 'start' : 'stop'} ${name}`);
    }
    return outcome(true, `container ${name} ${running ? 'started' : 'stopped'}`, {
      done: running ? 'start' : 'stop',
    });
  });
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
