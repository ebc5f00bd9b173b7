/**
 * Mail log lines as rsyslog writes them, in the classic syslog format or RFC 3339 (Debian bookworm's
 * default), e.g.
 *   2026-11-22T03:02:28.261536+00:00 mail postfix/smtp[2183]: 31344FC90B: to=<ok@sink.test>,
 *     relay=127.0.0.1[127.0.0.1]:2626, delay=0.06, delays=0.01/0.02/0.03/0.01, dsn=2.0.0,
 *     status=sent (250 2.0.0 Ok: queued as 3F8B8FC90E)
 *   Nov 22 03:02:28 mail postfix/qmgr[2056]: 31344FC90B: from=<alice@capture.test>, size=697, nrcpt=1 (queue active)
 *   ... postfix/qmgr[2056]: 31344FC90B: removed
 *   ... postfix/qmgr[2056]: 7A79EFC909: from=<erin@capture.test>, status=force-expired, returned to sender
 * Lines of other programs (amavis, dovecot, ...) parse to timestamp/host/program/message only.
 */
import { isQueueId } from '../commands/validate.js';
import { excerpt, lines, ParseError } from './errors.js';

export const DELIVERY_STATUSES = [
  'sent',
  'deferred',
  'bounced',
  'expired',
  'force-expired',
  'deliverable',
  'undeliverable',
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface Delays {
  /** Before the queue manager (including message transmission), in the queue manager, connection setup, transmission. */
  readonly beforeQmgr: number;
  readonly inQmgr: number;
  readonly connSetup: number;
  readonly transmission: number;
}

export interface MailLogEntry {
  /** As written in the log. */
  readonly timestamp: string;
  /** Epoch milliseconds, only for RFC 3339 timestamps (classic syslog has neither year nor zone). */
  readonly epochMs?: number;
  readonly host: string;
  /** e.g. "postfix/smtp", "postfix/amavis/smtp", "amavis". */
  readonly program: string;
  readonly pid?: number;
  /** Text after "program[pid]: ". */
  readonly message: string;
  readonly queueId?: string;
  readonly to?: string;
  readonly origTo?: string;
  readonly from?: string;
  readonly relay?: string;
  readonly delay?: number;
  readonly delays?: Delays;
  readonly dsn?: string;
  readonly status?: DeliveryStatus;
  /** The parenthesised text after status=..., e.g. "250 2.0.0 Ok: queued as X" or the deferral reason. */
  readonly reason?: string;
  readonly size?: number;
  readonly nrcpt?: number;
  readonly messageId?: string;
  readonly client?: string;
  /** True for "ID: removed" (the message left the queue). */
  readonly removed?: boolean;
  /** Queue id of the bounce created by "sender non-delivery notification: ID". */
  readonly bounceQueueId?: string;
  /** Every key=value pair of a queue-id line, raw, for fields not modelled above. */
  readonly fields?: Readonly<Record<string, string>>;
}

const PARSER = 'mail log';
const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))\s+(\S+)\s+(.*)$/;
const CLASSIC = /^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)\s+(\S+)\s+(.*)$/;
const PROGRAM = /^([^\s[\]:]+)(?:\[(\d+)\])?: ?(.*)$/;
const QUEUE_PREFIX = /^([0-9A-Za-z]{6,32}): (.*)$/;
const FIELD = /([a-z][a-z_-]*)=(<[^>]*>|[^,\s]*)/g;
const STATUS = /(?:^|,? )status=([a-z-]+)(.*)$/;

function unbracket(v: string): string {
  return v.startsWith('<') && v.endsWith('>') ? v.slice(1, -1) : v;
}

function num(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+(?:\.\d+)?$/.test(v)) return undefined;
  return Number(v);
}

function delays(v: string | undefined): Delays | undefined {
  const parts = v?.split('/').map(Number);
  if (parts?.length !== 4 || parts.some((n) => !Number.isFinite(n))) return undefined;
  const [beforeQmgr = 0, inQmgr = 0, connSetup = 0, transmission = 0] = parts;
  return { beforeQmgr, inQmgr, connSetup, transmission };
}

/**
 * What follows the status word: "(reason)" (the outer parentheses, nested ones kept), or for qmgr's
 * expiry lines ", returned to sender".
 */
function statusReason(rest: string): string | undefined {
  const t = rest.trim();
  if (t.startsWith('(') && t.endsWith(')')) return t.slice(1, -1);
  if (t.startsWith(', ')) return t.slice(2);
  return undefined;
}

function queueFields(body: string): Partial<MailLogEntry> {
  if (body === 'removed') return { removed: true };
  const bounce = /^sender (?:non-delivery|delivery status|delay) notification: (\S+)$/.exec(body);
  if (bounce?.[1] && isQueueId(bounce[1])) return { bounceQueueId: bounce[1] };
  const status = STATUS.exec(body);
  // Fields come before status=...; after it there is only the reason (which may itself contain '=').
  const head = status ? body.slice(0, status.index) : body.replace(/ \([^()]*\)$/, '');
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const m of head.matchAll(FIELD)) fields[m[1] ?? ''] = m[2] ?? '';
  const st = status?.[1];
  const known = DELIVERY_STATUSES.find((s) => s === st);
  if (st !== undefined) fields.status = st;
  const reason = status ? statusReason(status[2] ?? '') : undefined;
  const out: { -readonly [K in keyof MailLogEntry]?: MailLogEntry[K] } = {};
  const address = (v: string | undefined): string | undefined => (v === undefined ? undefined : unbracket(v));
  const values: Partial<MailLogEntry> = {
    to: address(fields.to),
    origTo: address(fields.orig_to),
    from: address(fields.from),
    relay: fields.relay,
    delay: num(fields.delay),
    delays: delays(fields.delays),
    dsn: fields.dsn,
    status: known,
    reason,
    size: num(fields.size),
    nrcpt: num(fields.nrcpt),
    messageId: address(fields['message-id']),
    client: fields.client,
  };
  // Only the fields the line had: absent keys, not keys set to undefined (keeps evidence JSON small).
  for (const [k, v] of Object.entries(values)) if (v !== undefined) Object.assign(out, { [k]: v });
  if (Object.keys(fields).length > 0) out.fields = fields;
  return out;
}

/** Parses one log line; throws ParseError when it is not a syslog line. */
export function parseMailLogLine(line: string, lineNumber?: number): MailLogEntry {
  const stamp = RFC3339.exec(line) ?? CLASSIC.exec(line);
  if (!stamp) throw new ParseError(PARSER, `no syslog timestamp and host: ${excerpt(line)}`, lineNumber);
  const [, timestamp = '', host = '', rest = ''] = stamp;
  const prog = PROGRAM.exec(rest);
  if (!prog) throw new ParseError(PARSER, `no "program[pid]:" tag: ${excerpt(line)}`, lineNumber);
  const [, program = '', pid, message = ''] = prog;
  const epochMs = RFC3339.test(line) ? Date.parse(timestamp) : undefined;
  const base: MailLogEntry = {
    timestamp,
    ...(epochMs !== undefined && Number.isFinite(epochMs) && { epochMs }),
    host,
    program,
    ...(pid !== undefined && { pid: Number(pid) }),
    message,
  };
  const q = QUEUE_PREFIX.exec(message);
  if (!q?.[1] || !isQueueId(q[1])) return base;
  return { ...base, queueId: q[1], ...queueFields(q[2] ?? '') };
}

export interface MailLog {
  readonly entries: readonly MailLogEntry[];
  readonly rejectedCount: number;
  /** The first few lines that were not syslog lines, for evidence. */
  readonly rejected: readonly { readonly line: number; readonly error: string }[];
}

/** A log tail: every line parsed; non-syslog lines are counted and sampled, not fatal. */
export function parseMailLog(text: string, maxRejectedSamples = 10): MailLog {
  const entries: MailLogEntry[] = [];
  const rejected: { line: number; error: string }[] = [];
  let rejectedCount = 0;
  lines(text).forEach((l, i) => {
    if (l.trim() === '') return;
    try {
      entries.push(parseMailLogLine(l, i + 1));
    } catch (err) {
      rejectedCount++;
      if (rejected.length < maxRejectedSamples) rejected.push({ line: i + 1, error: (err as Error).message });
    }
  });
  return { entries, rejectedCount, rejected };
}

/** Splits a relay field like "mx.example[192.0.2.1]:25" into its parts ("none" and "local" have no address). */
export function parseRelay(relay: string): { host: string; address?: string; port?: number } {
  const m = /^([^[\]]+)\[([^\]]+)\](?::(\d+))?$/.exec(relay);
  if (!m) return { host: relay };
  return { host: m[1] ?? '', address: m[2] ?? '', ...(m[3] !== undefined && { port: Number(m[3]) }) };
}
