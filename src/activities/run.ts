/**
 * Runs a catalogue command on a host and turns what can go wrong into the error types the engine's retry
 * policies know: transport trouble (unreachable, timeout) stays retryable, everything a retry cannot fix
 * (bad key, changed host key, missing container, refused input) becomes a non-retryable failure.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { CommandInputError, tail, type CatalogueCommand, type RunCommand } from '../commands/index.js';
import { ParseError } from '../parsers/index.js';
import { TransportError, type ExecResult, type HostTransport } from '../transports/index.js';
import { ERROR_TYPE, type ErrorType } from '../shared/errors.js';
import { redactLine } from './redaction.js';
import { cancellation, whileBeating } from './heartbeat.js';

const ERROR_TYPES: Record<TransportError['kind'], ErrorType> = {
  timeout: ERROR_TYPE.transportTimeout,
  unreachable: ERROR_TYPE.unreachable,
  auth: ERROR_TYPE.auth,
  'host-key': ERROR_TYPE.hostKey,
  'not-found': ERROR_TYPE.notFound,
  config: ERROR_TYPE.config,
};

export interface CommandRun extends ExecResult {
  /** The exit code is one the catalogue says still carries a meaningful answer. */
  readonly ok: boolean;
}

/** Maps any error from building or running a command to an ApplicationFailure (or leaves it as is). */
export function asFailure(err: unknown, where: string): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof TransportError) {
    const message = `${where}: ${err.message}`;
    return err.retryable
      ? ApplicationFailure.retryable(message, ERROR_TYPES[err.kind])
      : ApplicationFailure.nonRetryable(message, ERROR_TYPES[err.kind]);
  }
  if (err instanceof CommandInputError) {
    return ApplicationFailure.nonRetryable(`${where}: ${err.message}`, ERROR_TYPE.config);
  }
  if (err instanceof ParseError) {
    // Output we do not understand will not change on a retry a second later.
    return ApplicationFailure.nonRetryable(`${where}: ${err.message}`, ERROR_TYPE.parse);
  }
  return err;
}

/** Builds a command now, so a refused input fails the step (not retryable) before any host is reached. */
export function buildOrFail(build: () => CatalogueCommand): CatalogueCommand {
  try {
    return build();
  } catch (err) {
    throw asFailure(err, 'command');
  }
}

export interface RunOptions {
  readonly onStdoutLine?: (line: string) => void;
  /** Stops a read-only command before its catalogue limit (e.g. a limit known only once it runs). */
  readonly signal?: AbortSignal;
}

export async function run(
  host: HostTransport,
  build: () => CatalogueCommand,
  options: RunOptions = {},
): Promise<CommandRun> {
  let cmd: CatalogueCommand | undefined;
  try {
    cmd = build();
    // A read-only command (a long queue listing) stops when its activity is cancelled; a state-changing
    // one is left to finish, so a cancellation never leaves a change half made.
    const signals = cmd.stateChanging ? [] : [cancellation(), options.signal].filter((s) => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const request = {
      argv: cmd.argv,
      timeoutMs: cmd.timeoutMs,
      maxOutputBytes: cmd.maxOutputBytes,
      ...(cmd.stdin !== undefined && { stdin: cmd.stdin }),
      ...(options.onStdoutLine && { onStdoutLine: options.onStdoutLine }),
      ...(signal && { signal }),
    };
    // A restart may take minutes: the heartbeat must not wait for it.
    const result = await whileBeating(() => host.exec(request));
    return { ...result, ok: result.exitCode !== null && cmd.okExitCodes.includes(result.exitCode) };
  } catch (err) {
    throw asFailure(err, `${cmd?.argv[0] ?? 'command'} on ${host.description}`);
  }
}

export { tail };

/** Like run, but a failing exit code is an error (retryable: the host may be mid-restart). */
export async function runOk(
  host: HostTransport,
  build: () => CatalogueCommand,
  options: RunOptions = {},
): Promise<CommandRun> {
  const r = await run(host, build, options);
  if (!r.ok) {
    const what = build().description;
    throw ApplicationFailure.retryable(
      `${what} failed on ${host.description} (exit ${r.exitCode}): ${redactLine(tail(r.stderr || r.stdout, 300))}`,
      'CommandFailed',
    );
  }
  return r;
}

/** The catalogue's checks run their commands on `host` through this (runOk when a command must succeed). */
export function commandRunner(host: HostTransport): RunCommand {
  return (build, { mustSucceed }) => (mustSucceed ? runOk(host, build) : run(host, build));
}
