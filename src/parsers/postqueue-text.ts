/**
 * `postqueue -p` (mailq) output: the entries and the closing summary line
 * (`-- N Kbytes in M Request(s).` or `Mail queue is empty`). Prefer `postqueue -j` for machine use; this
 * parser serves evidence and the human-readable format the seed runbook shows.
 */
import { excerpt, lines, ParseError } from './errors.js';

/** The marker postqueue appends to a queue id: '*' active, '!' held, '#' forced to expire. */
export type MailqMarker = 'active' | 'hold' | 'forced-expire' | 'none';

export interface MailqEntry {
  readonly queueId: string;
  readonly marker: MailqMarker;
  readonly size: number;
  /** As printed, e.g. "Sun Nov 22 03:02:28" (no year, no zone). */
  readonly arrival: string;
  readonly sender: string;
  readonly recipients: readonly { readonly address: string; readonly reason?: string }[];
}

export interface MailqListing {
  readonly empty: boolean;
  readonly kbytes: number;
  readonly requests: number;
  readonly entries: readonly MailqEntry[];
}

const PARSER = 'postqueue -p';
const MARKERS: Record<string, MailqMarker> = { '*': 'active', '!': 'hold', '#': 'forced-expire', '': 'none' };
const SUMMARY = /^-- (\d+) Kbytes in (\d+) Requests?\.$/;
const ENTRY = /^([0-9A-Za-z]+)([*!#]?)\s+(\d+)\s+(\w{3} \w{3}\s+\d+ \d\d:\d\d:\d\d)\s+(\S*)$/;
const REASON = /^\s+\((.*)\)$/;
const RECIPIENT = /^\s+(\S+)$/;

export function parsePostqueueList(text: string): MailqListing {
  const all = lines(text);
  const last = [...all]
    .reverse()
    .find((l) => l.trim() !== '')
    ?.trim();
  if (last === undefined) throw new ParseError(PARSER, 'empty output');
  if (/^Mail queue is empty$/.test(last)) return { empty: true, kbytes: 0, requests: 0, entries: [] };
  const summary = SUMMARY.exec(last);
  if (!summary) {
    // e.g. "postqueue: fatal: Queue report unavailable - mail system is down", or output cut by a size cap.
    throw new ParseError(
      PARSER,
      `no summary line at the end (truncated output or an error?): ${excerpt(last)}`,
    );
  }
  return {
    empty: false,
    kbytes: Number(summary[1]),
    requests: Number(summary[2]),
    entries: parseEntries(all),
  };
}

function parseEntries(all: readonly string[]): MailqEntry[] {
  const entries: MailqEntry[] = [];
  let current: { entry: MailqEntry; recipients: { address: string; reason?: string }[] } | undefined;
  let reason: string | undefined;
  all.forEach((l, i) => {
    if (l.startsWith('-Queue ID-') || l.startsWith('-- ') || l.trim() === '') return;
    const e = ENTRY.exec(l);
    if (e) {
      const recipients: { address: string; reason?: string }[] = [];
      const entry: MailqEntry = {
        queueId: e[1] ?? '',
        marker: MARKERS[e[2] ?? ''] ?? 'none',
        size: Number(e[3]),
        arrival: (e[4] ?? '').replace(/\s+/g, ' '),
        sender: e[5] ?? '',
        recipients,
      };
      entries.push(entry);
      current = { entry, recipients };
      reason = undefined;
      return;
    }
    const r = REASON.exec(l);
    if (r && current) {
      reason = r[1];
      return;
    }
    const rcpt = RECIPIENT.exec(l);
    if (rcpt && current) {
      current.recipients.push({ address: rcpt[1] ?? '', ...(reason !== undefined && { reason }) });
      return;
    }
    throw new ParseError(PARSER, `unexpected line ${excerpt(l)}`, i + 1);
  });
  return entries;
}
