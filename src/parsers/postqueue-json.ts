/**
 * `postqueue -j` (Postfix >= 3.1): one JSON object per message per line. Unknown fields are ignored
 * (Postfix adds fields over time: forced_expire in 3.5, orig_address/bounce_reason in 3.11).
 */
import { excerpt, ParseError } from './errors.js';

export interface QueuedRecipient {
  readonly address: string;
  /** Why delivery to this recipient was deferred (absent for fresh mail). */
  readonly delayReason?: string;
  readonly origAddress?: string;
  readonly bounceReason?: string;
}

export interface QueuedMessage {
  /** maildrop, incoming, active, deferred, hold (or corrupt); kept as a string for forward compatibility. */
  readonly queueName: string;
  readonly queueId: string;
  /** Arrival time, seconds since the epoch. */
  readonly arrivalTime: number;
  readonly messageSize: number;
  readonly forcedExpire: boolean;
  /** Envelope sender; Postfix shows the null sender of bounces as "MAILER-DAEMON". */
  readonly sender: string;
  readonly recipients: readonly QueuedRecipient[];
}

const PARSER = 'postqueue -j';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field<T>(obj: Json, key: string, check: (v: unknown) => v is T, what: string, line?: number): T {
  const v = obj[key];
  if (!check(v))
    throw new ParseError(
      PARSER,
      `field "${key}" must be ${what}, got ${excerpt(JSON.stringify(v) ?? 'undefined', 40)}`,
      line,
    );
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const optionalString = (obj: Json, key: string): string | undefined => {
  const v = obj[key];
  return typeof v === 'string' ? v : undefined;
};

function recipient(value: unknown, index: number, line?: number): QueuedRecipient {
  if (!isObject(value)) throw new ParseError(PARSER, `recipients[${index}] is not an object`, line);
  const r: { -readonly [K in keyof QueuedRecipient]: QueuedRecipient[K] } = {
    address: field(value, 'address', isString, 'a string', line),
  };
  // Assigned one by one, not spread: this runs for every recipient of a million-message queue.
  const delayReason = optionalString(value, 'delay_reason');
  if (delayReason !== undefined) r.delayReason = delayReason;
  const origAddress = optionalString(value, 'orig_address');
  if (origAddress !== undefined) r.origAddress = origAddress;
  const bounceReason = optionalString(value, 'bounce_reason');
  if (bounceReason !== undefined) r.bounceReason = bounceReason;
  return r;
}

/** Converts an already JSON.parse'd object; throws ParseError when a required field is missing or mistyped. */
export function toQueuedMessage(value: unknown, line?: number): QueuedMessage {
  if (!isObject(value)) throw new ParseError(PARSER, 'line is not a JSON object', line);
  const queueName = field(value, 'queue_name', isString, 'a string', line);
  const queueId = field(value, 'queue_id', isString, 'a string', line);
  const arrivalTime = field(value, 'arrival_time', isNumber, 'a number', line);
  const messageSize = field(value, 'message_size', isNumber, 'a number', line);
  const sender = field(value, 'sender', isString, 'a string', line);
  const recipients = field(value, 'recipients', Array.isArray, 'an array', line) as unknown[];
  return {
    queueName,
    queueId,
    arrivalTime,
    messageSize,
    forcedExpire: value.forced_expire === true,
    sender,
    recipients: recipients.map((r, i) => recipient(r, i, line)),
  };
}

/** One line of `postqueue -j`. Throws ParseError on anything that is not a queue entry. */
export function parsePostqueueJsonLine(text: string, line?: number): QueuedMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ParseError(PARSER, `not JSON: ${excerpt(text)}`, line);
  }
  return toQueuedMessage(value, line);
}

/** The whole output (small queues; use queue-summary.ts for large ones). Blank lines are skipped. */
export function parsePostqueueJson(text: string): QueuedMessage[] {
  const out: QueuedMessage[] = [];
  text.split('\n').forEach((raw, i) => {
    const l = raw.trim();
    if (l !== '') out.push(parsePostqueueJsonLine(l, i + 1));
  });
  return out;
}
