/**
 * `postconf -M` (master.cf services), also raw master.cf text and `postconf -Mf` folded output:
 *   name type private unpriv chroot wakeup maxproc command [args...]
 * with `-o name=value` overrides, `-o { name = value with spaces }` (Postfix >= 3.0) and continuation
 * lines that start with whitespace.
 */
import { excerpt, lines, ParseError } from './errors.js';

/** 'y', 'n', or '-' (the built-in default), as written. */
export type MasterFlag = string;

export interface MasterService {
  /** Service name; for inet services the listen address, e.g. "smtp", "127.0.0.1:10025", "submission". */
  readonly name: string;
  /** inet, unix, unix-dgram, fifo, pass. */
  readonly type: string;
  readonly private: MasterFlag;
  readonly unpriv: MasterFlag;
  readonly chroot: MasterFlag;
  /** e.g. "-", "60", "1000?" */
  readonly wakeup: string;
  readonly maxproc: string;
  readonly command: string;
  /** Arguments after the command, without the -o overrides. */
  readonly args: readonly string[];
  /** -o overrides in order of appearance; a later one for the same name wins, as in Postfix. */
  readonly overrides: Readonly<Record<string, string>>;
}

const PARSER = 'postconf -M';

/** Splits on whitespace, keeping a `{ ... }` group (which may contain spaces) as one token. */
function tokenize(text: string, lineNumber: number): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i] ?? '')) {
      i++;
      continue;
    }
    if (text[i] === '{') {
      const close = text.indexOf('}', i);
      if (close < 0) throw new ParseError(PARSER, `unclosed '{' in ${excerpt(text)}`, lineNumber);
      tokens.push(text.slice(i, close + 1));
      i = close + 1;
      continue;
    }
    let j = i;
    while (j < text.length && !/\s/.test(text[j] ?? '')) j++;
    tokens.push(text.slice(i, j));
    i = j;
  }
  return tokens;
}

function override(token: string, lineNumber: number): [string, string] {
  const inner = token.startsWith('{') ? token.slice(1, -1).trim() : token;
  const eq = inner.indexOf('=');
  if (eq <= 0) throw new ParseError(PARSER, `-o needs name=value, got ${excerpt(token)}`, lineNumber);
  return [inner.slice(0, eq).trim(), inner.slice(eq + 1).trim()];
}

function service(text: string, lineNumber: number): MasterService {
  const tokens = tokenize(text, lineNumber);
  if (tokens.length < 8) throw new ParseError(PARSER, `expected 8+ fields: ${excerpt(text)}`, lineNumber);
  const [name, type, priv, unpriv, chroot, wakeup, maxproc, cmd, ...rest] = tokens as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    ...string[],
  ];
  const args: string[] = [];
  const overrides: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i < rest.length; i++) {
    const t = rest[i] ?? '';
    if (t === '-o' && i + 1 < rest.length) {
      const [k, v] = override(rest[++i] ?? '', lineNumber);
      overrides[k] = v;
    } else {
      args.push(t);
    }
  }
  return { name, type, private: priv, unpriv, chroot, wakeup, maxproc, command: cmd, args, overrides };
}

export function parsePostconfMaster(text: string): MasterService[] {
  // Join continuation lines first, remembering where each logical line started.
  const logical: { text: string; line: number }[] = [];
  lines(text).forEach((l, i) => {
    if (l.trim() === '' || l.trimStart().startsWith('#')) return;
    const prev = logical[logical.length - 1];
    if (/^\s/.test(l)) {
      if (!prev) throw new ParseError(PARSER, `continuation without a service: ${excerpt(l)}`, i + 1);
      prev.text += ` ${l.trim()}`;
    } else {
      logical.push({ text: l, line: i + 1 });
    }
  });
  return logical.map((l) => service(l.text, l.line));
}

export function findService(
  services: readonly MasterService[],
  name: string,
  type?: string,
): MasterService | undefined {
  return services.find((s) => s.name === name && (type === undefined || s.type === type));
}
