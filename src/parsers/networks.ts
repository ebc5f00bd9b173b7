/**
 * Postfix network lists (`mynetworks`, `-o mynetworks=` in master.cf): CIDR patterns such as `127.0.0.0/8`,
 * bare addresses, IPv6 in brackets (`[::1]/128`), negations (`!10.1.2.0/24`), lookup tables (`cidr:/path`)
 * and pattern files (`/path`). The audit asks one question per entry: does it trust more than it should?
 *
 * Trusted is fine: loopback, a single host, and private space no wider than a /24 (IPv6: a /64 of
 * unique-local or link-local space). Flagged: private space wider than that (a whole Docker range such as
 * 172.16.0.0/12, what DMS's PERMIT_DOCKER=network trusts), any public range (wider than one host, up to
 * 0.0.0.0/0), and entries the audit cannot evaluate (tables, files, `$parameter` references).
 */
import { postconfList } from './postconf.js';

export type NetworkTrust =
  'loopback' | 'host' | 'private-narrow' | 'negated' | 'private-wide' | 'public-range' | 'unverifiable';

export interface NetworkEntry {
  /** As written in the list. */
  readonly text: string;
  readonly family?: 4 | 6;
  /** Prefix length (a bare address counts as /32 or /128). */
  readonly prefix?: number;
  readonly trust: NetworkTrust;
  /** True when the entry trusts more than the audit allows. */
  readonly flagged: boolean;
  /** Plain words for the report. */
  readonly reason: string;
}

interface Block {
  readonly base: bigint;
  readonly prefix: number;
}

const V4_PRIVATE: readonly Block[] = [
  v4Block('10.0.0.0', 8),
  v4Block('172.16.0.0', 12),
  v4Block('192.168.0.0', 16),
  v4Block('100.64.0.0', 10), // carrier-grade NAT
  v4Block('169.254.0.0', 16), // link-local
];
const V4_LOOPBACK = v4Block('127.0.0.0', 8);
const V6_PRIVATE: readonly Block[] = [v6Block('fc00::', 7), v6Block('fe80::', 10)];
const V6_LOOPBACK = v6Block('::1', 128);
const V6_MAPPED_V4 = v6Block('::ffff:0.0.0.0', 96);

const NARROWEST_PRIVATE = { 4: 24, 6: 64 } as const;

function v4Block(address: string, prefix: number): Block {
  return { base: parseV4(address) ?? 0n, prefix };
}

function v6Block(address: string, prefix: number): Block {
  return { base: parseV6(address) ?? 0n, prefix };
}

export function parseV4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    value = (value << 8n) | BigInt(Number(p));
  }
  return value;
}

export function parseV6(text: string): bigint | undefined {
  if (!/^[0-9A-Fa-f:.]{2,45}$/.test(text)) return undefined;
  let groups: string[];
  // An embedded IPv4 tail (::ffff:127.0.0.1) becomes two 16-bit groups.
  const v4Tail = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  let head = text;
  let tail: string[] = [];
  if (v4Tail) {
    const v4 = parseV4(v4Tail[2] ?? '');
    if (v4 === undefined) return undefined;
    head = (v4Tail[1] ?? '').endsWith('::') ? (v4Tail[1] ?? '') : (v4Tail[1] ?? '').slice(0, -1);
    tail = [((v4 >> 16n) & 0xffffn).toString(16), (v4 & 0xffffn).toString(16)];
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const left = halves[0] ? halves[0].split(':') : [];
  const right = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const present = left.length + right.length + tail.length;
  if (halves.length === 1) {
    groups = [...left, ...tail];
    if (groups.length !== 8) return undefined;
  } else {
    if (present > 7) return undefined;
    groups = [...left, ...Array<string>(8 - present).fill('0'), ...right, ...tail];
  }
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  return value;
}

/** Is the range base/prefix entirely inside block? */
function inside(base: bigint, prefix: number, block: Block, bits: number): boolean {
  if (prefix < block.prefix) return false;
  const shift = BigInt(bits - block.prefix);
  return base >> shift === block.base >> shift;
}

function entry(
  text: string,
  trust: NetworkTrust,
  reason: string,
  family?: 4 | 6,
  prefix?: number,
): NetworkEntry {
  const flagged = trust === 'private-wide' || trust === 'public-range' || trust === 'unverifiable';
  return { text, trust, flagged, reason, ...(family && { family }), ...(prefix !== undefined && { prefix }) };
}

function classifyRange(text: string, family: 4 | 6, base: bigint, prefix: number): NetworkEntry {
  const bits = family === 4 ? 32 : 128;
  if (family === 6 && inside(base, prefix, V6_MAPPED_V4, 128)) {
    // ::ffff:a.b.c.d/n is the IPv4 range a.b.c.d/(n-96).
    const v4 = classifyRange(text, 4, base & 0xffffffffn, prefix - 96);
    return { ...v4, family: 6, prefix };
  }
  const loopback = family === 4 ? V4_LOOPBACK : V6_LOOPBACK;
  if (inside(base, prefix, loopback, bits)) return entry(text, 'loopback', 'loopback', family, prefix);
  if (prefix === bits) return entry(text, 'host', 'a single host', family, prefix);
  const privateBlock = (family === 4 ? V4_PRIVATE : V6_PRIVATE).find((b) => inside(base, prefix, b, bits));
  const narrowest = NARROWEST_PRIVATE[family];
  if (privateBlock) {
    return prefix >= narrowest
      ? entry(text, 'private-narrow', `private range no wider than /${narrowest}`, family, prefix)
      : entry(
          text,
          'private-wide',
          `trusts a whole private range (/${prefix}, wider than /${narrowest}): every host in it may relay without authentication`,
          family,
          prefix,
        );
  }
  const hosts =
    prefix === 0 ? 'every address on the Internet' : `a public range of 2^${bits - prefix} addresses`;
  return entry(
    text,
    'public-range',
    `trusts ${hosts}: anyone there may relay without authentication`,
    family,
    prefix,
  );
}

/** One list entry. Never throws: what it cannot read is `unverifiable` (and flagged). */
export function classifyNetwork(text: string): NetworkEntry {
  if (text.startsWith('!')) {
    return entry(text, 'negated', 'an exclusion (narrows the list)');
  }
  if (text.startsWith('/')) {
    return entry(text, 'unverifiable', 'a pattern file: its contents are not audited');
  }
  if (text.startsWith('$')) {
    return entry(text, 'unverifiable', 'a parameter reference: not expanded by the audit');
  }
  const m = /^(?:\[([^\]]+)\]|([^/[\]]+))(?:\/(\d{1,3}))?$/.exec(text);
  const address = m?.[1] ?? m?.[2];
  if (address !== undefined) {
    const v4 = m?.[1] === undefined ? parseV4(address) : undefined;
    const v6 = v4 === undefined ? parseV6(address) : undefined;
    const family = v4 !== undefined ? 4 : v6 !== undefined ? 6 : undefined;
    if (family !== undefined) {
      const bits = family === 4 ? 32 : 128;
      const prefix = m?.[3] === undefined ? bits : Number(m[3]);
      if (prefix <= bits) {
        const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
        return classifyRange(text, family, (v4 ?? v6 ?? 0n) & mask, prefix);
      }
    }
  }
  if (/^[a-z][a-z0-9_]*:/i.test(text)) {
    return entry(text, 'unverifiable', 'a lookup table: its contents are not audited');
  }
  return entry(text, 'unverifiable', 'not an address or network pattern the audit understands');
}

/** A whole list value, as `postconf -h mynetworks` prints it (commas and/or whitespace). */
export function parseNetworkList(value: string): NetworkEntry[] {
  return postconfList(value).map(classifyNetwork);
}
