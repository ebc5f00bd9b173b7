/**
 * `postconf -n` / `postconf` (main.cf `name = value`, one per line; a line starting with whitespace
 * continues the previous value, as in main.cf and `postconf -f`) and `postconf -h` (values only).
 */
import { excerpt, lines, ParseError } from './errors.js';

/** Parameter name -> value. A null-prototype object: keys like "__proto__" stay plain data. */
export type PostconfMap = Readonly<Record<string, string>>;

const ENTRY = /^([A-Za-z0-9_./-]+)\s*=\s?(.*)$/;

export function parsePostconf(text: string): PostconfMap {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let last: string | undefined;
  lines(text).forEach((l, i) => {
    if (l.trim() === '' || l.trimStart().startsWith('#')) return;
    if (/^\s/.test(l)) {
      if (last === undefined)
        throw new ParseError('postconf', `continuation without a parameter: ${excerpt(l)}`, i + 1);
      out[last] = `${out[last] ?? ''} ${l.trim()}`.trim();
      return;
    }
    const m = ENTRY.exec(l);
    if (!m) throw new ParseError('postconf', `not a "name = value" line: ${excerpt(l)}`, i + 1);
    last = m[1] ?? '';
    out[last] = (m[2] ?? '').trim();
  });
  return out;
}

/** `postconf -h a b c` prints one value per line in the order asked. */
export function parsePostconfValues(text: string, names: readonly string[]): PostconfMap {
  const values = lines(text);
  if (values.length !== names.length) {
    throw new ParseError('postconf -h', `expected ${names.length} value line(s), got ${values.length}`);
  }
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  names.forEach((n, i) => (out[n] = (values[i] ?? '').trim()));
  return out;
}

/** Splits a list-valued parameter (mynetworks, smtpd_*_restrictions) on commas and whitespace. */
export function postconfList(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter((s) => s !== '');
}
