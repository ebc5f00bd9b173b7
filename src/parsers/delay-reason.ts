/**
 * Collapses Postfix deferral reasons to their shape, so that 100k deferred messages group into a handful
 * of causes: addresses, hosts, IPs, ids and counts become placeholders; SMTP reply codes and enhanced
 * status codes (the part that says *why*) are kept.
 *   "connect to 127.0.0.1[127.0.0.1]:2526: Connection refused" -> "connect to <host>:2526: Connection refused"
 *   "host mx.example[192.0.2.7] said: 450 4.7.1 <a@b.example>: Greylisted for 300 seconds (in reply to RCPT TO command)"
 *     -> "host <host> said: 450 4.7.1 <address>: Greylisted for <n> seconds (in reply to RCPT TO command)"
 * Ports are kept by default: there are few of them, and they say which service is down (2526 the relay,
 * 10024 amavis), which "<port>" would hide. `keepPorts: false` gives the fully generic shape.
 *
 * Works token by token (whitespace-separated, each capped in length) with anchored patterns only, so the
 * cost is linear in the input even for hostile reasons: no pattern scans ahead from every position.
 */

/** Reasons are cut to this length after normalising: the shape is in the first words. */
export const MAX_REASON_LENGTH = 200;
const MAX_INPUT = 1000;
const MAX_TOKEN = 100;

export interface NormaliseOptions {
  /** Keep port numbers (default true); false replaces them with "<port>". */
  readonly keepPorts?: boolean;
}

const LEADING = new Set(['(', '<', '"', "'", '[']);
const TRAILING = new Set([')', '>', ':', ',', ';', '.', '"', "'"]);

const ADDRESS = /^[^@]+@[^@]+$/;
const HOST_IP = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\[[0-9A-Fa-f:.]+\](?::(\d+))?$/;
const BRACKET_IP = /^\[[0-9A-Fa-f:.]+\](?::(\d+))?$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}(?::(\d+))?$/;
const ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3}$/;
const REPLY_CODE = /^[245]\d\d(?:-[245]\.\d{1,3}\.\d{1,3})?$/;
const ID_CHARS = /^[A-Za-z0-9_.-]{8,}$/;

function withPort(placeholder: string, port: string | undefined, keepPorts: boolean): string {
  if (port === undefined) return placeholder;
  return `${placeholder}:${keepPorts ? port : '<port>'}`;
}

/** The placeholder for a token's core (punctuation stripped), or the core itself when it carries meaning. */
function classify(core: string, previous: string, keepPorts: boolean): string {
  let m: RegExpExecArray | null;
  if (ADDRESS.test(core)) return '\u0000address';
  if ((m = HOST_IP.exec(core))) return withPort('<host>', m[1], keepPorts);
  if ((m = BRACKET_IP.exec(core) ?? IPV4.exec(core))) return withPort('<ip>', m[1], keepPorts);
  if (core.startsWith('name=')) return 'name=<domain>';
  if (ENHANCED_CODE.test(core)) return core;
  if (REPLY_CODE.test(core) && (previous === '' || previous === 'said:')) return core;
  if (!/\d/.test(core)) return core;
  if (ID_CHARS.test(core) && /[A-Za-z]/.test(core)) return '<id>';
  return /[A-Za-z]/.test(core) ? core : core.replace(/\d+/g, '<n>');
}

// Only tokens with one of these can change; plain words (most of a reason) skip all other checks.
const MAY_CHANGE = /[\d@=]/;

function normaliseToken(token: string, previous: string, keepPorts: boolean): string {
  if (token.length > MAX_TOKEN) return '<long>';
  if (!MAY_CHANGE.test(token)) return token;
  let start = 0;
  let end = token.length;
  while (start < end && LEADING.has(token[start] ?? '')) start++;
  while (end > start && TRAILING.has(token[end - 1] ?? '')) end--;
  const core = token.slice(start, end);
  if (core === '') return token;
  const shape = classify(core, previous, keepPorts);
  const prefix = token.slice(0, start);
  const suffix = token.slice(end);
  // Addresses: "<a@b>:" -> "<address>:", "a@b" -> "<address>".
  if (shape === '\u0000address') {
    return prefix.endsWith('<') ? `${prefix}address${suffix}` : `${prefix}<address>${suffix}`;
  }
  return `${prefix}${shape}${suffix}`;
}

export function normaliseDelayReason(reason: string, options: NormaliseOptions = {}): string {
  const keepPorts = options.keepPorts ?? true;
  const tokens = reason.slice(0, MAX_INPUT).split(/\s+/);
  const out: string[] = [];
  let previous = '';
  for (const t of tokens) {
    if (t === '') continue;
    out.push(normaliseToken(t, previous, keepPorts));
    previous = t;
  }
  const text = out.join(' ');
  return text.length > MAX_REASON_LENGTH ? `${text.slice(0, MAX_REASON_LENGTH - 3)}...` : text;
}

/**
 * A deferral that no retry fixes: the relay refused our SASL credentials (Postfix defers these, so they
 * look transient in the queue). Runbooks hand over instead of flushing or waiting.
 */
export const CREDENTIALS_REFUSED = /SASL authentication failed|535[ -]5\.7\.8|authentication failed/i;
