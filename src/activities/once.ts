/**
 * Exactly once for state-changing actions, decided by the host, not by the worker's memory.
 *
 * Every state-changing command runs inside the host-side once wrapper (commands/once.ts) under a marker
 * named after the action's once-key and this attempt: the marker (the intent, with its start time) exists
 * on the host before the command starts, and the exit code is recorded there when it ends, even when the
 * worker died in between (the wrapper survives a dropped connection). A retried attempt first asks the host:
 * - an earlier attempt still running: wait for it (heartbeating, bounded by the command's limit);
 * - an earlier attempt finished well: return its recorded result, run nothing;
 * - an earlier attempt started but failed, or died without a result: ask the host's own state whether the
 *   change happened after the intent's time (the action's `applied` check: a program started since, queue
 *   ids already held, a file's content already right); only if it did not, run again under a new marker.
 *   With no such check, a command that started and died is taken as done (at most once), and one that
 *   reported a failure is run again (it said it did not do it).
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/activity';
import {
  ONCE_ALREADY_STARTED_EXIT,
  ONCE_ALREADY_STARTED_TEXT,
  type CatalogueCommand,
  type OnceCommands,
} from '../commands/index.js';
import { parseOnceMarkers, parseOnceShow, type OnceMarker } from '../parsers/index.js';
import type { HostTransport } from '../transports/index.js';
import type { StepOutcome } from '../shared/types.js';
import { attemptNumber, beat, whileBeating } from './heartbeat.js';
import { buildOrFail, run, runOk, tail, type CommandRun } from './run.js';

/** A host that runs commands once: its transport and its flavour's once wrapper. */
export interface OnceHost {
  readonly host: HostTransport;
  readonly commands: { readonly once: OnceCommands };
}

/** When the earliest attempt started the command, and the host's clock now (epoch seconds, host clock). */
export interface Intent {
  readonly startedAt: number;
  readonly hostNow: () => number;
}

/**
 * Asks the host whether the change of an earlier, unfinished or failed attempt happened after its intent.
 * Returns what it found when it did (for the summary), undefined when the change is still to be made.
 */
export type AppliedCheck = (intent: Intent) => Promise<string | undefined>;

/** How one command ran once. */
export interface OnceResult {
  /** `ran`: by this attempt; `recorded`: an earlier attempt's recorded result; `host`: the host's state says done. */
  readonly by: 'ran' | 'recorded' | 'host' | 'started';
  readonly stdout: string;
  readonly stderr: string;
  /** Says how an earlier attempt settled it (empty when this attempt ran it). */
  readonly note: string;
}

/** Poll interval while an earlier attempt's command still runs. */
const AWAIT_POLL_MS = 2_000;
/** A settled decision is reached in at most this many rounds of status, wait and act. */
const MAX_ROUNDS = 4;

/** The marker prefix of one command of one action: a digest, so no user text reaches the host. */
export function markerPrefix(onceKey: string, part: string): string {
  return createHash('sha256').update(`${onceKey}\n${part}`).digest('hex').slice(0, 32);
}

export interface MarkerStatus {
  readonly markers: OnceMarker[];
  /** The host's clock now, estimated from its answer and the time since (epoch seconds). */
  readonly hostNow: () => number;
}

export async function markerStatus(on: OnceHost, prefix: string): Promise<MarkerStatus> {
  const r = await runOk(on.host, () => on.commands.once.status(prefix));
  const readAt = Date.now();
  const { hostNow, markers } = parseOnceMarkers(r.stdout);
  return { markers, hostNow: () => hostNow + Math.round((Date.now() - readAt) / 1000) };
}

const running = (m: OnceMarker): boolean => m.alive && m.exitCode === undefined;

/**
 * Waits (heartbeating) until no earlier attempt's command under `prefix` still runs, at most `limitMs`
 * plus a poll; returns the last status.
 */
export async function awaitEarlier(on: OnceHost, prefix: string, limitMs: number): Promise<MarkerStatus> {
  const deadline = Date.now() + limitMs + AWAIT_POLL_MS;
  let status = await markerStatus(on, prefix);
  while (status.markers.some(running) && Date.now() < deadline) {
    beat({ awaiting: status.markers.filter(running).map((m) => m.name) });
    await whileBeating(() => sleep(AWAIT_POLL_MS));
    status = await markerStatus(on, prefix);
  }
  return status;
}

/**
 * Runs `command` under the marker `name`, recording the intent (heartbeat) first. Undefined when the
 * marker was claimed already (an earlier attempt started it); a failing exit code is a retryable error.
 */
export async function runMarked(
  on: OnceHost,
  name: string,
  command: CatalogueCommand,
  intent: Record<string, unknown>,
): Promise<CommandRun | undefined> {
  beat({ intent: { ...intent, marker: name, at: new Date().toISOString() } });
  const r = await run(on.host, () => on.commands.once.run(name, command));
  if (r.exitCode === ONCE_ALREADY_STARTED_EXIT && r.stderr.includes(ONCE_ALREADY_STARTED_TEXT)) {
    return undefined;
  }
  if (!r.ok) {
    throw ApplicationFailure.retryable(
      `${command.description} failed on ${on.host.description} (exit ${r.exitCode}): ${tail(r.stderr || r.stdout, 300)}`,
      'CommandFailed',
    );
  }
  return r;
}

function earliestStart(markers: OnceMarker[]): number | undefined {
  const starts = markers.flatMap((m) => (m.startedAt === undefined ? [] : [m.startedAt]));
  return starts.length ? Math.min(...starts) : undefined;
}

/**
 * One state-changing command, run once per action (`onceKey`) and `part` (the command's role in the
 * action), whatever crashed or retried in between. See the module comment for the rules.
 */
export async function runOnce(
  on: OnceHost,
  onceKey: string,
  part: string,
  command: CatalogueCommand,
  applied?: AppliedCheck,
): Promise<OnceResult> {
  const prefix = markerPrefix(onceKey, part);
  const name = `${prefix}.${attemptNumber()}`;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const status = await awaitEarlier(on, prefix, command.timeoutMs);
    const { markers } = status;
    if (markers.some(running)) {
      throw ApplicationFailure.retryable(
        `an earlier attempt of "${command.description}" still runs after its limit`,
        'CommandFailed',
      );
    }
    const done = markers.find((m) => m.exitCode !== undefined && command.okExitCodes.includes(m.exitCode));
    if (done) {
      const shown = await runOk(on.host, () => on.commands.once.show(done.name, command.maxOutputBytes));
      const { stdout } = parseOnceShow(shown.stdout);
      return { by: 'recorded', stdout, stderr: shown.stderr, note: 'applied by an earlier attempt' };
    }
    const startedAt = earliestStart(markers);
    if (startedAt !== undefined) {
      if (applied) {
        const found = await applied({ startedAt, hostNow: status.hostNow });
        if (found !== undefined) {
          return {
            by: 'host',
            stdout: '',
            stderr: '',
            note: `already applied after an earlier attempt: ${found}`,
          };
        }
      } else if (markers.some((m) => m.startedAt !== undefined && m.exitCode === undefined)) {
        return {
          by: 'started',
          stdout: '',
          stderr: '',
          note: 'started by an earlier attempt whose process died before it recorded a result; not repeated',
        };
      }
    }
    if (markers.some((m) => m.name === name)) {
      throw ApplicationFailure.retryable(
        `this attempt's marker for "${command.description}" already failed`,
        'CommandFailed',
      );
    }
    const r = await runMarked(on, name, command, { onceKey, part });
    if (r) return { by: 'ran', stdout: r.stdout, stderr: r.stderr, note: '' };
  }
  throw ApplicationFailure.retryable(`could not settle "${command.description}" once`, 'CommandFailed');
}

/** Appends how an earlier attempt settled the action to a summary. */
export function noted(summary: string, result: Pick<OnceResult, 'note'>): string {
  return result.note ? `${summary} (${result.note})` : summary;
}

/** What a state-changing catalogue command leaves as evidence: its output. */
export type CommandOutcome = StepOutcome<{ output: string }>;

/**
 * One state-changing catalogue command on a host (onMailServer, onRelay), applied once per run and step;
 * the summary is made from its output (stdout and stderr, trimmed).
 */
export async function commandOnce<Commands extends { readonly once: OnceCommands }>(
  onceKey: string,
  on: { host: HostTransport; commands: Commands },
  build: (commands: Commands) => CatalogueCommand,
  summary: (output: string) => string,
  applied?: AppliedCheck,
): Promise<CommandOutcome> {
  const command = buildOrFail(() => build(on.commands));
  const result = await runOnce(on, onceKey, 'command', command, applied);
  const output = tail(`${result.stdout}${result.stderr}`);
  return { ok: true, summary: noted(summary(output), result), evidence: { output } };
}

/** Epoch seconds as an ISO time, for summaries. */
export const isoTime = (epochSeconds: number): string => new Date(epochSeconds * 1000).toISOString();

/**
 * The usual check of a restart: the service runs and started no earlier than the intent (1 s slack:
 * uptimes are whole seconds). `uptimeSeconds` undefined means it does not run.
 */
export function startedSinceIntent(what: string, uptime: () => Promise<number | undefined>): AppliedCheck {
  return async ({ startedAt, hostNow }) => {
    const seconds = await uptime();
    if (seconds === undefined) return undefined;
    const since = hostNow() - seconds;
    return since >= startedAt - 1
      ? `${what} runs since ${isoTime(since)}, after the intent at ${isoTime(startedAt)}`
      : undefined;
  };
}
