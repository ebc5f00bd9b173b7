/**
 * `qshape` (Postfix's queue shape tool): a header of age buckets in minutes, a TOTAL row, then one row per
 * domain (recipient domain, or sender domain with -s):
 *                                          T  5 10 20 40 80 160 320 640 1280 1280+
 *                                   TOTAL  6  6  0  0  0  0   0   0   0    0     0
 *                             remote.test  2  2  0  0  0  0   0   0   0    0     0
 * Column "5" counts messages younger than 5 minutes, "10" those 5-10 minutes old, and so on.
 */
import { excerpt, lines, ParseError } from './errors.js';

export interface QshapeRow {
  readonly domain: string;
  readonly total: number;
  /** One count per bucket, aligned with QshapeTable.buckets. */
  readonly counts: readonly number[];
}

export interface QshapeTable {
  /** Bucket labels after "T", e.g. ["5", "10", ..., "1280", "1280+"]. */
  readonly buckets: readonly string[];
  readonly total: QshapeRow;
  readonly domains: readonly QshapeRow[];
}

const PARSER = 'qshape';

export function parseQshape(text: string): QshapeTable {
  const all = lines(text);
  const h = all.findIndex((l) => /^\s*T(\s+\d+\+?)+\s*$/.test(l));
  if (h < 0)
    throw new ParseError(PARSER, `no "T 5 10 ..." header: ${excerpt(all.find((l) => l.trim()) ?? '')}`);
  const buckets = (all[h] ?? '').trim().split(/\s+/).slice(1);
  let total: QshapeRow | undefined;
  const domains: QshapeRow[] = [];
  for (let i = h + 1; i < all.length; i++) {
    const l = (all[i] ?? '').trim();
    if (l === '') continue;
    const cells = l.split(/\s+/);
    const numbers = cells.slice(-(buckets.length + 1));
    // A domain is one token; a sender of "MAILER-DAEMON" also shows as one.
    const domain = cells.slice(0, cells.length - numbers.length).join(' ');
    if (domain === '' || numbers.length !== buckets.length + 1 || !numbers.every((n) => /^\d+$/.test(n))) {
      throw new ParseError(PARSER, `row does not match the ${buckets.length} buckets: ${excerpt(l)}`, i + 1);
    }
    const [t = 0, ...counts] = numbers.map(Number);
    const row = { domain, total: t, counts };
    if (domain === 'TOTAL' && total === undefined) total = row;
    else domains.push(row);
  }
  if (!total) throw new ParseError(PARSER, 'no TOTAL row');
  return { buckets, total, domains };
}
