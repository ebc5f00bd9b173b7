/**
 * The relay host, over SSH (linux: ss, supervisord or systemd, tail; windows: netstat, Get-Process, the
 * Scheduled Task, Get-Content), and the relay as the mail server sees it (an SMTP probe from there).
 */
import {
  isListeningOn,
  parseMailLog,
  parseRelay,
  parseSmtpProbe,
  type ListeningEndpoint,
  type SmtpProbe,
} from '../parsers/index.js';
import type { StepOutcome } from '../shared/types.js';
import { onMailServer, onRelay } from './context.js';
import { commandOnce, startedSinceIntent, type CommandOutcome } from './once.js';
import { outcome } from './outcome.js';
import { commandRunner, run, runOk, tail } from './run.js';
import { waitForOutcome } from './wait.js';

export interface PortEvidence {
  port: number;
  listening: boolean;
  listeners: ListeningEndpoint[];
}

/** Is something listening on the relay port on the relay host? */
export async function relayPortListening(targetName: string): Promise<StepOutcome<PortEvidence>> {
  const { target, host, commands } = await onRelay(targetName);
  const all = await commands.listeningPorts(commandRunner(host));
  const port = target.relay.port;
  const listening = isListeningOn(all, port);
  return outcome(
    listening,
    listening ? `relay port ${port} is listening` : `relay port ${port} is not listening`,
    {
      port,
      listening,
      listeners: all.filter((l) => l.port === port),
    },
  );
}

/** Waits (bounded, 2 minutes) until the relay port listens again after a restart. */
export async function waitRelayListening(targetName: string): Promise<StepOutcome<PortEvidence>> {
  return waitForOutcome(120, 3_000, () => relayPortListening(targetName), {
    done: 'relay port listens again',
    notDone: 'relay port still not listening',
  });
}

export interface WatchdogEvidence {
  manager: string;
  name: string;
  state: string;
  detail: string;
}

/** The relay's watchdog / service: running? (linux: supervisord or systemd; windows: task + process) */
export async function relayWatchdogState(targetName: string): Promise<StepOutcome<WatchdogEvidence>> {
  const { relay, host, commands } = await onRelay(targetName);
  const { service } = relay;
  const s = await commands.serviceState(commandRunner(host));
  return outcome(s.running, s.summary, {
    manager: service.manager,
    name: service.name,
    state: s.state,
    detail: s.detail,
  });
}

/** Restarts the relay's watchdog (supervisorctl/systemctl restart, or Stop-/Start-ScheduledTask). */
export async function restartRelayWatchdog(targetName: string, onceKey: string): Promise<CommandOutcome> {
  const relay = await onRelay(targetName);
  const name = relay.relay.service.name;
  // A retry after an earlier attempt died or failed: has the service started since the intent?
  const startedSince = startedSinceIntent(name, async () => {
    const u = await relay.commands.serviceUptime(commandRunner(relay.host));
    return u.running ? u.uptimeSeconds : undefined;
  });
  return commandOnce(
    onceKey,
    relay,
    (commands) => commands.restartService(),
    () => `restarted the relay watchdog ${name}`,
    startedSince,
  );
}

/** Starts or stops the relay service (the start/stop runbook). */
export async function setRelayRunning(
  targetName: string,
  running: boolean,
  onceKey: string,
): Promise<CommandOutcome> {
  const relay = await onRelay(targetName);
  // A retry after an earlier attempt died or failed: is the service in the wanted state already?
  const inWantedState = async (): Promise<string | undefined> => {
    const s = await relay.commands.serviceState(commandRunner(relay.host));
    return s.running === running ? s.summary : undefined;
  };
  return commandOnce(
    onceKey,
    relay,
    (commands) => commands.setServiceRunning(running),
    () => `relay ${relay.relay.service.name} ${running ? 'started' : 'stopped'}`,
    inWantedState,
  );
}

export interface RelayLogs {
  log: string[];
  errorLog: string[];
}

/**
 * The last lines of the relay's log and error log, as evidence. An error log keeps old lines after the
 * trouble is over, so its content alone is no verdict: ok unless a log cannot be read.
 */
export async function relayLogs(targetName: string): Promise<StepOutcome<RelayLogs>> {
  const { target, relay, host, commands } = await onRelay(targetName);
  const lines = target.thresholds.logTailLines;
  const unreadable: string[] = [];
  const read = async (path: string | undefined): Promise<string[]> => {
    if (!path) return [];
    const r = await run(host, () => commands.tailLog(path, lines));
    if (r.ok) return r.stdout.split(/\r?\n/).filter((l) => l !== '');
    unreadable.push(path);
    return [`(could not read ${path}: ${tail(r.stderr, 200)})`];
  };
  const [log, errorLog] = await Promise.all([read(relay.logs.log), read(relay.logs.errorLog)]);
  const lastError = errorLog.at(-1);
  return outcome(
    unreadable.length === 0,
    `${unreadable.length ? `cannot read ${unreadable.join(', ')}; ` : ''}relay log: ${log.length} lines; error log: ${errorLog.length ? `${errorLog.length} lines, last: ${lastError}` : 'empty'}`,
    { log, errorLog },
  );
}

/** The relay as Postfix meets it: an SMTP greeting and EHLO answer, probed from the mail server. */
export async function relayAnswersSmtp(
  targetName: string,
): Promise<StepOutcome<SmtpProbe & { relay: string }>> {
  const { target, host, commands } = await onMailServer(targetName);
  const relay = `[${target.canary.expectRelay}]:${target.relay.port}`;
  const r = await runOk(host, () => commands.smtpProbe(target.canary.expectRelay, target.relay.port, 10));
  const probe = parseSmtpProbe(`${r.stdout}\n${r.stderr}`);
  const ok = probe.problem === undefined;
  return outcome(
    ok,
    ok ? `relay ${relay} greets: ${probe.greeting}` : `relay ${relay} does not answer SMTP: ${probe.problem}`,
    {
      ...probe,
      relay,
    },
  );
}

export interface DeferralEvidence {
  relay: string;
  lastAttempt?: { timestamp: string; queueId?: string; status?: string; reason?: string };
  deferredInTail: number;
  /** The last deferrals through (or to) the relay, as our mail log has them: the reasons for a person. */
  deferredLines?: string[];
}

/** Deferral lines kept as evidence: enough to show a pattern, few enough to read. */
const DEFERRAL_LINES = 10;

/**
 * Outbound delivery through the relay, from the mail log: ok unless the latest delivery attempt through
 * (or to) the expected relay was deferred.
 */
export async function outboundDeferrals(targetName: string): Promise<StepOutcome<DeferralEvidence>> {
  const { target, host, commands } = await onMailServer(targetName);
  const relay = target.canary.expectRelay;
  const r = await runOk(host, () => commands.tailMailLog(Math.max(200, target.thresholds.logTailLines)));
  const attempts = parseMailLog(r.stdout).entries.filter(
    (e) =>
      e.status !== undefined &&
      e.program.endsWith('/smtp') &&
      ((e.relay !== undefined && parseRelay(e.relay).host === relay) || (e.reason ?? '').includes(relay)),
  );
  const last = attempts.at(-1);
  const deferred = attempts.filter((e) => e.status === 'deferred');
  const deferredInTail = deferred.length;
  const evidence: DeferralEvidence = {
    relay,
    deferredInTail,
    deferredLines: deferred.slice(-DEFERRAL_LINES).map((e) => `${e.timestamp} ${e.program}: ${e.message}`),
    ...(last && {
      lastAttempt: {
        timestamp: last.timestamp,
        queueId: last.queueId,
        status: last.status,
        reason: last.reason,
      },
    }),
  };
  if (!last) return outcome(true, `no recent delivery attempt through ${relay} in the mail log`, evidence);
  return last.status === 'deferred'
    ? outcome(false, `last delivery through ${relay} was deferred: ${last.reason ?? '?'}`, evidence)
    : outcome(true, `last delivery through ${relay} was ${last.status}`, evidence);
}
