/**
 * The worker's memory of the secrets it resolved (context.ts `secret`), so that none of them, nor a URL's
 * credentials, nor an inline Postfix password table, leaves an activity in a result, an error or a log line.
 */
import { redactDeep, redactText, secretPieces } from '../parsers/index.js';

const known = new Set<string>();

export function rememberSecret(value: string): void {
  for (const piece of secretPieces(value)) known.add(piece);
}

export function redactResult<T>(value: T): T {
  return redactDeep(value, known);
}

export function redactLine(text: string): string {
  return redactText(text, known);
}

/** The error with its message (and stack) redacted; thrown on as the same object (type, retry flags kept). */
export function redactError(err: unknown): unknown {
  if (err instanceof Error) {
    err.message = redactLine(err.message);
    if (err.stack) err.stack = redactLine(err.stack);
    if (err.cause instanceof Error) redactError(err.cause);
  }
  return err;
}
