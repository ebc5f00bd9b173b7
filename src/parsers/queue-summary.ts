/**
 * Queue summary at any size: a streaming accumulator fed `postqueue -j` line by line (e.g. from the
 * transport's onStdoutLine). Memory is bounded (a few bounded maps, no message is kept) and the JSON of
 * the result stays far below 64 KB whatever the queue size, so it can go into workflow history as is.
 */
import { excerpt, ParseError } from './errors.js';
import { HeavyHitters, type TopList } from './heavy-hitters.js';
import { normaliseDelayReason } from './delay-reason.js';
import { toQueuedMessage, type QueuedMessage } from './postqueue-json.js';

/** qshape's buckets: "5" = younger than 5 minutes, ..., "1280+" = 1280 minutes or older. */
export const AGE_BUCKET_LIMITS_MINUTES = [5, 10, 20, 40, 80, 160, 320, 640, 1280] as const;
export const AGE_BUCKET_LABELS = [...AGE_BUCKET_LIMITS_MINUTES.map(String), '1280+'] as const;

const KNOWN_QUEUES = ['maildrop', 'incoming', 'active', 'deferred', 'hold', 'corrupt'] as const;
type QueueKey = (typeof KNOWN_QUEUES)[number] | 'other';

export interface QueueCounts {
  readonly messages: number;
  readonly recipients: number;
  readonly bytes: number;
  /** Messages per age bucket (AGE_BUCKET_LABELS). */
  readonly ageBuckets: readonly number[];
}

export interface DomainAges {
  readonly domain: string;
  /** Messages in the row (the sum of `buckets`). */
  readonly total: number;
  /** Messages per age bucket (AGE_BUCKET_LABELS). */
  readonly buckets: readonly number[];
}

export interface QueueSummary {
  /** The reference time ages were computed against (epoch seconds). */
  readonly now: number;
  readonly messages: number;
  readonly recipients: number;
  readonly bytes: number;
  readonly forcedExpire: number;
  readonly byQueue: Readonly<Record<QueueKey, QueueCounts>>;
  readonly ageBucketLabels: readonly string[];
  readonly ageBuckets: readonly number[];
  readonly oldest?: {
    readonly queueId: string;
    readonly queueName: string;
    readonly arrivalTime: number;
    readonly ageSeconds: number;
  };
  /** Recipients per destination domain. */
  readonly recipientDomains: TopList;
  /**
   * qshape's view: for the top recipient domains (at most DOMAIN_AGE_ROWS, in recipientDomains order),
   * messages per age bucket; a message counts once per distinct domain among its recipients, so rows may
   * add up to more than the total. Exact while recipientDomains.exact; otherwise a row only counts the
   * messages seen since its domain was last admitted to the bounded top list (a lower bound per bucket).
   * Absent from summaries recorded before it existed.
   */
  readonly domainAges?: readonly DomainAges[];
  /** Messages per envelope sender. */
  readonly senders: TopList;
  /** Recipients per normalised delay_reason (recipients with no reason are not counted here). */
  readonly deferralReasons: TopList;
  readonly invalidLines: number;
  readonly invalidSamples: readonly string[];
}

export interface QueueSummaryOptions {
  /** Reference time in epoch seconds (passed in, so results are deterministic). */
  readonly now: number;
  /** Entries listed per top list (default 20, max 50). */
  readonly topK?: number;
  /** Keys held per top list (default 2000): bounds memory, not output. */
  readonly capacity?: number;
  /** Keep port numbers in deferral reasons (default true, see delay-reason.ts). */
  readonly keepPorts?: boolean;
}

const OPEN_BRACE = 0x7b;
// Keys are cut so that neither memory nor the result can grow with hostile input.
const MAX_KEY_LENGTH = 256;
const MAX_INVALID_SAMPLES = 3;
// Many recipients share a raw reason; normalising each distinct one once saves most of the regex work.
const REASON_CACHE_SIZE = 4096;
/** Domains in the age matrix: enough for a person to see where the backlog is, small in history. */
export const DOMAIN_AGE_ROWS = 10;

function bucketOf(ageSeconds: number): number {
  const minutes = ageSeconds / 60;
  let i = 0;
  while (i < AGE_BUCKET_LIMITS_MINUTES.length && minutes >= (AGE_BUCKET_LIMITS_MINUTES[i] ?? 0)) i++;
  return i;
}

function cut(key: string): string {
  return key.length > MAX_KEY_LENGTH ? key.slice(0, MAX_KEY_LENGTH) : key;
}

export function recipientDomain(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '(no domain)' : cut(address.slice(at + 1).toLowerCase());
}

class MutableCounts {
  messages = 0;
  recipients = 0;
  bytes = 0;
  readonly ageBuckets: number[] = new Array<number>(AGE_BUCKET_LABELS.length).fill(0);

  add(m: QueuedMessage, bucket: number): void {
    this.messages++;
    this.recipients += m.recipients.length;
    this.bytes += m.messageSize;
    this.ageBuckets[bucket] = (this.ageBuckets[bucket] ?? 0) + 1;
  }
}

export class QueueSummaryAccumulator {
  private readonly now: number;
  private readonly topK: number;
  private readonly keepPorts: boolean;
  private readonly total = new MutableCounts();
  private readonly other = new MutableCounts();
  private readonly queues = new Map<QueueKey, MutableCounts>([
    ...KNOWN_QUEUES.map((q): [QueueKey, MutableCounts] => [q, new MutableCounts()]),
    ['other', this.other],
  ]);
  private readonly domains: HeavyHitters;
  /** Age buckets for exactly the domains `domains` holds (dropped with them), so memory stays bounded. */
  private readonly domainBuckets = new Map<string, number[]>();
  private readonly senders: HeavyHitters;
  private readonly reasons: HeavyHitters;
  private readonly reasonCache = new Map<string, string>();
  private forcedExpire = 0;
  private oldest: QueueSummary['oldest'];
  private invalid = 0;
  private readonly invalidSamples: string[] = [];

  constructor(options: QueueSummaryOptions) {
    if (!Number.isFinite(options.now)) throw new RangeError('now must be epoch seconds');
    this.now = options.now;
    this.keepPorts = options.keepPorts ?? true;
    this.topK = Math.max(1, Math.min(50, Math.trunc(options.topK ?? 20)));
    const capacity = Math.max(this.topK, Math.trunc(options.capacity ?? 2000));
    this.domains = new HeavyHitters(capacity, (key) => this.domainBuckets.delete(key));
    this.senders = new HeavyHitters(capacity);
    this.reasons = new HeavyHitters(capacity);
  }

  /** One line of `postqueue -j`. Blank lines are ignored; bad lines are counted and sampled, not thrown. */
  addLine(line: string): void {
    // Every line of postqueue -j starts with "{": only other lines pay for trim's copy.
    if (line.charCodeAt(0) !== OPEN_BRACE && line.trim() === '') return;
    let message: QueuedMessage;
    try {
      message = toQueuedMessage(JSON.parse(line));
    } catch (err) {
      this.invalid++;
      if (this.invalidSamples.length < MAX_INVALID_SAMPLES) {
        const why = err instanceof SyntaxError ? 'not JSON' : (err as Error).message;
        this.invalidSamples.push(`${why}: ${excerpt(line, 80)}`);
      }
      return;
    }
    this.addMessage(message);
  }

  addMessage(m: QueuedMessage): void {
    const ageSeconds = Math.max(0, this.now - m.arrivalTime);
    const bucket = bucketOf(ageSeconds);
    this.total.add(m, bucket);
    (this.queues.get(m.queueName as QueueKey) ?? this.other).add(m, bucket);
    if (m.forcedExpire) this.forcedExpire++;
    if (!this.oldest || m.arrivalTime < this.oldest.arrivalTime) {
      this.oldest = { queueId: m.queueId, queueName: m.queueName, arrivalTime: m.arrivalTime, ageSeconds };
    }
    this.senders.add(cut(m.sender === '' ? 'MAILER-DAEMON' : m.sender));
    // Most messages have one recipient: no set needed to count each of its domains once.
    const messageDomains = m.recipients.length > 1 ? new Set<string>() : undefined;
    let onlyDomain: string | undefined;
    for (const r of m.recipients) {
      const domain = recipientDomain(r.address);
      this.domains.add(domain);
      if (messageDomains) messageDomains.add(domain);
      else onlyDomain = domain;
      if (r.delayReason !== undefined) this.reasons.add(this.normalised(r.delayReason));
    }
    if (onlyDomain !== undefined) this.countDomainAge(onlyDomain, bucket);
    for (const domain of messageDomains ?? []) this.countDomainAge(domain, bucket);
  }

  /** After the message's recipients were counted, so a domain admitted by this message is counted too. */
  private countDomainAge(domain: string, bucket: number): void {
    if (!this.domains.has(domain)) return;
    let buckets = this.domainBuckets.get(domain);
    if (!buckets) {
      buckets = new Array<number>(AGE_BUCKET_LABELS.length).fill(0);
      this.domainBuckets.set(domain, buckets);
    }
    buckets[bucket] = (buckets[bucket] ?? 0) + 1;
  }

  private normalised(reason: string): string {
    let n = this.reasonCache.get(reason);
    if (n === undefined) {
      if (this.reasonCache.size >= REASON_CACHE_SIZE) this.reasonCache.clear();
      n = normaliseDelayReason(reason, { keepPorts: this.keepPorts });
      this.reasonCache.set(reason, n);
    }
    return n;
  }

  result(): QueueSummary {
    const freeze = (c: MutableCounts): QueueCounts => ({
      messages: c.messages,
      recipients: c.recipients,
      bytes: c.bytes,
      ageBuckets: [...c.ageBuckets],
    });
    const byQueue = Object.fromEntries([...this.queues].map(([q, c]) => [q, freeze(c)])) as Record<
      QueueKey,
      QueueCounts
    >;
    const recipientDomains = this.domains.top(this.topK);
    const domainAges = recipientDomains.top.slice(0, DOMAIN_AGE_ROWS).map(({ key }): DomainAges => {
      const buckets = [...(this.domainBuckets.get(key) ?? AGE_BUCKET_LABELS.map(() => 0))];
      return { domain: key, total: buckets.reduce((a, b) => a + b, 0), buckets };
    });
    return {
      now: this.now,
      messages: this.total.messages,
      recipients: this.total.recipients,
      bytes: this.total.bytes,
      forcedExpire: this.forcedExpire,
      byQueue,
      ageBucketLabels: AGE_BUCKET_LABELS,
      ageBuckets: [...this.total.ageBuckets],
      ...(this.oldest && { oldest: { ...this.oldest } }),
      recipientDomains,
      domainAges,
      senders: this.senders.top(this.topK),
      deferralReasons: this.reasons.top(this.topK),
      invalidLines: this.invalid,
      invalidSamples: [...this.invalidSamples],
    };
  }
}

/** Convenience for text already in memory (tests, small queues). */
export function summariseQueueJson(text: string, options: QueueSummaryOptions): QueueSummary {
  const acc = new QueueSummaryAccumulator(options);
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    acc.addLine(text.slice(start, end));
    start = end + 1;
  }
  return acc.result();
}

/** The output of the catalogue's queue file count (`wc -l`: a number, maybe padded). */
export function parseQueueFileCount(text: string): number {
  const trimmed = text.trim();
  if (!/^\d{1,9}$/.test(trimmed))
    throw new ParseError('queue file count', `not a count: ${excerpt(trimmed, 40)}`);
  return Number(trimmed);
}
