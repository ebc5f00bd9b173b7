/**
 * Postfix lookup tables and next hops: map references in main.cf (`texthash:/etc/postfix/relayhost_map`),
 * the result of `postmap -q KEY MAP`, and the next-hop forms a relay map or transport map returns
 * (`[relay.example]:2526`, `smtp:[relay.example]:587`, `relay.example`).
 */
import { POSTMAP_TYPES } from '../commands/validate.js';
import { lines } from './errors.js';
import { postconfList } from './postconf.js';

export interface MapRef {
  /** As written, e.g. "texthash:/etc/postfix/relayhost_map". */
  readonly text: string;
  readonly type: string;
  /** The name after the type; for file-based maps the file path (hash: without ".db"). */
  readonly name: string;
  /** A local file map of a type the catalogue may query. */
  readonly queryable: boolean;
}

/**
 * A password table's value with its inline data hidden: `static:user:password`, `static:{...}` and
 * `inline:{...}` carry the secret in main.cf itself (braces may nest: the whole balanced group goes).
 * File-based maps keep their type and path. Safe on any text, not just one value.
 */
export function redactInlineTables(value: string): string {
  let out = '';
  let rest = value;
  for (let m = /\b(inline|static):\{/.exec(rest); m; m = /\b(inline|static):\{/.exec(rest)) {
    let depth = 0;
    let end = m.index + m[0].length - 1;
    for (; end < rest.length; end++) {
      if (rest[end] === '{') depth++;
      else if (rest[end] === '}' && --depth === 0) break;
    }
    out += `${rest.slice(0, m.index)}${m[1]}:{<redacted>}`;
    rest = rest.slice(end + 1);
  }
  return (out + rest).replace(/\bstatic:(?![{<])[^\s,]+/g, 'static:<redacted>');
}

/** One `type:name` reference; undefined when the text is not of that form. */
export function parseMapRef(text: string): MapRef | undefined {
  const m = /^([a-z][a-z0-9_]*):(.+)$/.exec(text);
  if (!m) return undefined;
  const type = m[1] ?? '';
  const name = m[2] ?? '';
  const queryable = (POSTMAP_TYPES as readonly string[]).includes(type) && name.startsWith('/');
  return { text, type, name, queryable };
}

/** A list-valued map parameter (transport_maps, smtp_sasl_password_maps...); entries that are not maps are dropped. */
export function parseMapList(value: string): MapRef[] {
  return postconfList(value)
    .map(parseMapRef)
    .filter((m): m is MapRef => m !== undefined);
}

export type PostmapResult =
  | { readonly status: 'found'; readonly value: string }
  | { readonly status: 'not-found' }
  | { readonly status: 'error'; readonly message: string };

/**
 * `postmap -q`: exit 0 and the value on stdout when the key is found; exit 1 and nothing when it is not;
 * exit 1 with "postmap: fatal: ..." on stderr when the map cannot be read (missing file, bad type).
 * Warnings on stderr (a bad regexp line) do not change the answer.
 */
export function parsePostmapQuery(result: {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}): PostmapResult {
  const fatal = lines(result.stderr).find((l) => /\bfatal:/.test(l));
  if (fatal !== undefined) return { status: 'error', message: fatal.trim() };
  if (result.exitCode === 0) return { status: 'found', value: lines(result.stdout).join(' ').trim() };
  if (result.exitCode === 1) return { status: 'not-found' };
  const detail = lines(result.stderr).slice(-1)[0]?.trim();
  return {
    status: 'error',
    message: `postmap exited ${String(result.exitCode)}${detail ? `: ${detail}` : ''}`,
  };
}

export interface Nexthop {
  /** As written, e.g. "[relay.lab.test]:2526". */
  readonly text: string;
  /** Host or domain without brackets or port. */
  readonly host: string;
  readonly port?: number;
  /** [host]: no MX lookup, connect to host itself. */
  readonly bracketed: boolean;
}

/** `[host]:port`, `[host]`, `host:port` or `host` (IPv6 only in brackets). Undefined for anything else. */
export function parseNexthop(text: string): Nexthop | undefined {
  const t = text.trim();
  const m = /^(?:\[([^\]\s]+)\]|([A-Za-z0-9][A-Za-z0-9.-]*))(?::(\d{1,5}))?$/.exec(t);
  if (!m) return undefined;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const host = (m[1] ?? m[2] ?? '').replace(/^ipv6:/i, '');
  return { text: t, host, bracketed: m[1] !== undefined, ...(port !== undefined && { port }) };
}

/** A transport(5) result `transport:nexthop`; nexthop may be empty ("use the recipient domain"). */
export function parseTransport(value: string): { transport: string; nexthop: string } {
  const v = value.trim();
  const colon = v.indexOf(':');
  if (colon < 0) return { transport: v, nexthop: '' };
  return { transport: v.slice(0, colon), nexthop: v.slice(colon + 1) };
}

/** The domain part of an address (lower-case). */
export function addressDomain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}
