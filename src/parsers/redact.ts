/**
 * Hides secrets in any text before it becomes evidence, a summary, a log line or an error: values the
 * worker resolved from its secret store (passwords, tokens, webhook URLs, key lines), credentials inside
 * URLs (`scheme://user:password@host`), and Postfix password tables written inline (`static:`, `inline:`).
 */
import { redactInlineTables } from './postfix-maps.js';

export const REDACTED = '<redacted>';

/** `scheme://user:password@` and `scheme://token@` lose what comes before the @. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@?#]+@/gi;

export function redactText(text: string, known: Iterable<string> = []): string {
  let out = text;
  // Longest first: a whole webhook URL goes before its path does.
  const pieces = [...known].sort((a, b) => b.length - a.length);
  for (const secret of pieces) if (secret && out.includes(secret)) out = out.split(secret).join(REDACTED);
  return redactInlineTables(out.replace(URL_CREDENTIALS, `$1${REDACTED}@`));
}

/** Shortest value taken as a secret to hide by value (shorter ones would hide ordinary words). */
const MIN_SECRET_CHARS = 6;

/**
 * The pieces of a secret's value to hide: the whole value; for a URL also its user info, path and query
 * (a webhook's token is usually its path); for a multi-line value (a key file) each long line.
 */
export function secretPieces(value: string): string[] {
  const whole = value.trim();
  const pieces = [whole];
  if (whole.includes('\n')) {
    pieces.push(
      ...whole
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.length >= 20 && !l.startsWith('-----')),
    );
  }
  try {
    const url = new URL(whole);
    if (url.host) {
      pieces.push(url.username, url.password, decodeURIComponent(url.password));
      const pathAndQuery = `${url.pathname}${url.search}`;
      if (pathAndQuery.length > 1) pieces.push(pathAndQuery);
      pieces.push(...url.pathname.split('/').filter((p) => p.length >= 16));
    }
  } catch {
    // not a URL
  }
  return [...new Set(pieces)].filter((p) => p.length >= MIN_SECRET_CHARS);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  !!v &&
  typeof v === 'object' &&
  [Object.prototype, null].includes(Object.getPrototypeOf(v) as object | null);

/**
 * Every string inside `value` (a result, evidence; plain objects and arrays) passed through redactText;
 * other values as they are.
 */
export function redactDeep<T>(value: T, known: Iterable<string> = []): T {
  const list = [...known];
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactText(v, list);
    if (Array.isArray(v)) return v.map(walk);
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
