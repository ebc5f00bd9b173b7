/**
 * What every transport shares: request validation, the deadline, per-stream output caps, stdout line
 * streaming and timing. A transport only starts its command, feeds the bytes it receives into the sinks
 * and says how to stop it; `runLimited` turns that into an ExecResult or a TransportError.
 */
import { performance } from 'node:perf_hooks';
import { CappedBuffer } from './capped.js';
import { LineSplitter } from './lines.js';
import { TransportError } from './types.js';
import type { ExecRequest, ExecResult } from './types.js';

/** Where a transport delivers the command's output, as raw bytes in arrival order. */
export interface OutputSinks {
  readonly stdout: (chunk: Buffer) => void;
  readonly stderr: (chunk: Buffer) => void;
}

/** A command that has been started by a transport. */
export interface StartedCommand {
  /** Settles once the command has ended and all of its output went into the sinks: its exit code, null if signalled. */
  readonly exited: Promise<number | null>;
  /** Best-effort stop (deadline passed or the line consumer failed). Must not throw; may be slow. */
  kill(): Promise<void>;
}

/** How long a kill may take before we report the timeout anyway. */
const KILL_GRACE_MS = 5_000;

export function validateRequest(request: ExecRequest): void {
  const { argv, timeoutMs, maxOutputBytes } = request;
  if (argv.length === 0 || !argv[0]) throw new TransportError('config', 'empty argument vector');
  if (argv.some((arg) => arg.includes('\0'))) {
    throw new TransportError('config', 'an argument contains a NUL byte, which no transport can pass');
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TransportError('config', `timeoutMs must be a positive number, got ${timeoutMs}`);
  }
  if (!Number.isSafeInteger(maxOutputBytes) || maxOutputBytes < 0) {
    throw new TransportError(
      'config',
      `maxOutputBytes must be a non-negative integer, got ${maxOutputBytes}`,
    );
  }
}

/**
 * Runs one command under the request's limits. `start` receives the sinks and returns the started command
 * (or throws a TransportError). The deadline covers starting too (connecting, creating a docker exec).
 * `label` names the command in error messages: the program and the transport, never the arguments,
 * which may carry addresses or tokens.
 */
export async function runLimited(
  request: ExecRequest,
  label: string,
  start: (sinks: OutputSinks) => Promise<StartedCommand>,
): Promise<ExecResult> {
  validateRequest(request);
  const began = performance.now();
  const stdout = new CappedBuffer(request.maxOutputBytes);
  const stderr = new CappedBuffer(request.maxOutputBytes);

  return new Promise<ExecResult>((resolve, reject) => {
    let settled = false;
    let started: StartedCommand | undefined;

    const signal = request.signal;
    const onAbort = (): void => fail(signal?.reason ?? new Error('cancelled'));
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // Stop the command first so the caller can rely on it being gone (as far as we could) when we reject.
      void boundedKill(started).then(() => reject(asError(error)));
    };

    const onStdoutLine = request.onStdoutLine;
    const lines = onStdoutLine
      ? new LineSplitter((line) => {
          try {
            onStdoutLine(line);
          } catch (error) {
            // A consumer that cannot cope ends the command rather than silently losing lines.
            fail(error);
          }
        })
      : undefined;

    const sinks: OutputSinks = {
      stdout: (chunk) => {
        if (settled) return;
        stdout.push(chunk);
        lines?.push(chunk);
      },
      stderr: (chunk) => {
        if (!settled) stderr.push(chunk);
      },
    };

    const timer = setTimeout(
      () => fail(new TransportError('timeout', `${label} ran past its ${request.timeoutMs} ms deadline`)),
      request.timeoutMs,
    );
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });

    start(sinks).then((command) => {
      started = command;
      if (settled) {
        // The deadline passed while we were still starting: stop what did start.
        void command.kill();
        return;
      }
      command.exited.then((exitCode) => {
        if (settled) return;
        lines?.end();
        if (settled) return; // the last line's consumer may have thrown
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve({
          exitCode,
          stdout: stdout.text(),
          stderr: stderr.text(),
          durationMs: Math.round(performance.now() - began),
          truncated: { stdout: stdout.truncated, stderr: stderr.truncated },
        });
      }, fail);
    }, fail);
  });
}

async function boundedKill(command: StartedCommand | undefined): Promise<void> {
  if (!command) return;
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, KILL_GRACE_MS);
  });
  await Promise.race([command.kill().catch(() => undefined), grace]);
  clearTimeout(timer);
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Where the program could not be started at all, remote runtimes still report an exit (126/127) with their
 * own message in the output; `pattern` recognises that message so it becomes TransportError('not-found'),
 * as it does for local commands, rather than looking like the program's own result.
 */
export function unlessNotStarted(
  result: ExecResult,
  stream: 'stdout' | 'stderr',
  pattern: RegExp,
  label: string,
): ExecResult {
  if ((result.exitCode === 126 || result.exitCode === 127) && pattern.test(result[stream])) {
    throw new TransportError(
      'not-found',
      `${label} could not be started: ${result[stream].trim().slice(0, 300)}`,
    );
  }
  return result;
}
