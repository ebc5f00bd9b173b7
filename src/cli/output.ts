/**
 * Output for CLI commands: text for people, JSON for scripts (`--json`), errors as one line without a stack
 * trace. Each invocation runs in its own context (AsyncLocalStorage): where its output goes, its exit code
 * and its global settings. So `run()` can be called in-process (tests, scripts) with captured output, even
 * several at once.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createInterface } from 'node:readline/promises';

/** Where an invocation writes. `stdout`/`stderr` get whole chunks (text plus newline). */
export interface Io {
  stdout(chunk: string): void;
  stderr(chunk: string): void;
  /** A terminal: `watch` redraws one progress line in place; otherwise it prints one line per event. */
  isTTY?: boolean;
  /** Asks the operator and returns the answer; missing when nobody can answer (no terminal on stdin). */
  ask?(question: string): Promise<string>;
}

export interface CliContext {
  io: Io;
  exitCode: number;
  /** Seconds to wait for the Temporal server before giving up (--connect-timeout, MRB_CONNECT_TIMEOUT). */
  connectTimeoutSeconds: number;
}

export interface OutputOptions {
  json?: boolean;
}

/** An error the user can act on: printed as one line, exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}

export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 5;

export function processIo(): Io {
  return {
    stdout: (chunk) => void process.stdout.write(chunk),
    stderr: (chunk) => void process.stderr.write(chunk),
    isTTY: Boolean(process.stdout.isTTY),
    ...(process.stdin.isTTY ? { ask: askOnTerminal } : {}),
  };
}

/** One question on stderr (stdout stays for the result), one line of answer from the terminal. */
async function askOnTerminal(question: string): Promise<string> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await prompt.question(question);
  } finally {
    prompt.close();
  }
}

const storage = new AsyncLocalStorage<CliContext>();

export function withContext<T>(io: Io, fn: (ctx: CliContext) => Promise<T>): Promise<T> {
  const ctx: CliContext = { io, exitCode: 0, connectTimeoutSeconds: DEFAULT_CONNECT_TIMEOUT_SECONDS };
  return storage.run(ctx, () => fn(ctx));
}

/** The current invocation's context (a process-wide default outside `run()`). */
export function context(): CliContext {
  return storage.getStore() ?? fallback;
}
const fallback: CliContext = {
  io: processIo(),
  exitCode: 0,
  connectTimeoutSeconds: DEFAULT_CONNECT_TIMEOUT_SECONDS,
};

export function setExitCode(code: number): void {
  context().exitCode = code;
}

/** One result: JSON on one line with --json, else the text. */
export function output(options: OutputOptions, data: unknown, text: string): void {
  context().io.stdout(`${options.json ? JSON.stringify(data) : text}\n`);
}

/** Any error as one line (no stack): the message with its whitespace folded, bounded. */
export function errorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const line = message.replace(/\s+/g, ' ').trim() || (err instanceof Error ? err.name : 'unknown error');
  return line.length > 600 ? `${line.slice(0, 600)}…` : line;
}

/** A positive number of seconds from an option, or a CliError naming the option. */
export function seconds(value: string | undefined, option: string, fallbackValue: number): number {
  if (value === undefined || value === '') return fallbackValue;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`${option} needs a positive number of seconds`);
  return n;
}
