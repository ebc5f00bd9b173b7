import { describe, expect, it } from 'vitest';
import { readFixture } from '../fixtures/read-fixture.js';
import { syntheticQueueLines } from '../fixtures/synthetic-queue.js';
import {
  HeavyHitters,
  normaliseDelayReason,
  parsePostqueueJson,
  QueueSummaryAccumulator,
  summariseQueueJson,
} from '../../src/parsers/index.js';

const NOW = 1_795_320_000;
const LIMIT = 64 * 1024;

/** The accumulator's per-domain age vectors held right now (private: this is the memory bound under test). */
function domainBucketsHeld(acc: QueueSummaryAccumulator): number {
  return (acc as unknown as { domainBuckets: Map<string, number[]> }).domainBuckets.size;
}

describe('normaliseDelayReason', () => {
  it('keeps the shape and the SMTP codes, drops hosts, IPs, addresses, ids and numbers', () => {
    expect(normaliseDelayReason('connect to 127.0.0.1[127.0.0.1]:2526: Connection refused')).toBe(
      'connect to <host>:2526: Connection refused',
    );
    expect(
      normaliseDelayReason('connect to 127.0.0.1[127.0.0.1]:2526: Connection refused', { keepPorts: false }),
    ).toBe('connect to <host>:<port>: Connection refused');
    expect(
      normaliseDelayReason(
        'host mx.example.net[203.0.113.9] said: 450 4.7.1 <bob@example.net>: Recipient address rejected: ' +
          'Greylisted for 300 seconds (in reply to RCPT TO command)',
      ),
    ).toBe(
      'host <host> said: 450 4.7.1 <address>: Recipient address rejected: Greylisted for <n> seconds (in reply to RCPT TO command)',
    );
    expect(
      normaliseDelayReason(
        'Host or domain name not found. Name service error for name=foo.example type=MX: Host not found, try again',
      ),
    ).toBe(
      'Host or domain name not found. Name service error for name=<domain> type=MX: Host not found, try again',
    );
    expect(
      normaliseDelayReason('host mx.x[2001:db8::1] said: 421-4.7.28 rate a640c23a62f3a-abc123 gsmtp'),
    ).toBe('host <host> said: 421-4.7.28 rate <id> gsmtp');
    expect(normaliseDelayReason('lost connection with 192.0.2.1 while sending RCPT TO')).toBe(
      'lost connection with <ip> while sending RCPT TO',
    );
  });

  it('bounds the length of what it returns and stays linear on hostile input', () => {
    expect(normaliseDelayReason('x'.repeat(100_000)).length).toBeLessThanOrEqual(200);
    const hostile = [
      '('.repeat(1000),
      'a1'.repeat(500),
      `${'a'.repeat(99)}@ `.repeat(10),
      ')'.repeat(99) + ' 1'.repeat(450),
    ];
    // Against plain words of the same lengths (as many tokens or more), timed in the same rounds so that
    // machine load cancels out: backtracking would make the hostile inputs hundreds of times slower.
    const plain = hostile.map((h) => 'ab '.repeat(Math.ceil(h.length / 3)).slice(0, h.length));
    const time = (inputs: string[], round: number): number => {
      const started = performance.now();
      for (let i = 0; i < 1_000; i++) normaliseDelayReason(`${inputs[i % inputs.length] ?? ''}${round}${i}`);
      return performance.now() - started;
    };
    let hostileMs = 0;
    let plainMs = 0;
    for (let round = 0; round < 10; round++) {
      hostileMs += time(hostile, round);
      plainMs += time(plain, round);
    }
    expect(hostileMs).toBeLessThan(20 * plainMs + 50);
  });
});

describe('HeavyHitters', () => {
  it('is exact while the keys fit, bounded and still finds the heavy keys when they do not', () => {
    const exact = new HeavyHitters(10);
    for (const k of ['a', 'b', 'a', 'c', 'a', 'b']) exact.add(k);
    expect(exact.top(2)).toEqual({
      top: [
        { key: 'a', count: 3 },
        { key: 'b', count: 2 },
      ],
      otherCount: 1,
      exact: true,
      maxUndercount: 0,
    });
    const hh = new HeavyHitters(50);
    for (let i = 0; i < 100_000; i++) hh.add(i % 4 === 0 ? 'heavy' : `unique-${i}`);
    expect(hh.size).toBeLessThanOrEqual(50);
    const t = hh.top(1);
    expect(t.top[0]?.key).toBe('heavy');
    expect(t.exact).toBe(false);
    // The reported count is a lower bound within maxUndercount of the truth (25,000).
    expect(t.top[0]?.count).toBeLessThanOrEqual(25_000);
    expect((t.top[0]?.count ?? 0) + t.maxUndercount).toBeGreaterThanOrEqual(25_000);
  });
});

describe('HeavyHitters eviction hook', () => {
  it('tells the caller each key it drops, and which keys it holds', () => {
    const evicted: string[] = [];
    const hh = new HeavyHitters(2, (key) => evicted.push(key));
    for (const k of ['a', 'a', 'b', 'c']) hh.add(k);
    // Full when "c" arrives: everyone loses one, "b" reaches zero and is dropped, "c" is not admitted.
    expect(evicted).toEqual(['b']);
    expect([hh.has('a'), hh.has('b'), hh.has('c')]).toEqual([true, false, false]);
  });
});

describe('queue summary', () => {
  it('summarises the captured queue', () => {
    const text = readFixture('postqueue-j.txt');
    const messages = parsePostqueueJson(text);
    const now = Math.max(...messages.map((m) => m.arrivalTime)) + 30 * 60;
    const s = summariseQueueJson(text, { now });
    expect(s).toMatchObject({ messages: 8, recipients: 8, invalidLines: 0 });
    expect(s.byQueue.deferred.messages).toBe(7);
    expect(s.byQueue.hold.messages).toBe(1);
    expect(s.bytes).toBe(messages.reduce((n, m) => n + m.messageSize, 0));
    // 30 minutes old: the "40" bucket (20-40 minutes), like qshape.
    expect(s.ageBuckets[s.ageBucketLabels.indexOf('40')]).toBe(8);
    expect(s.deferralReasons.top).toEqual([
      { key: 'connect to <host>:2526: Connection refused', count: 7 },
      { key: 'connect to <host>:10024: Connection refused', count: 1 },
    ]);
    expect(s.senders.top[0]).toEqual({ key: 'MAILER-DAEMON', count: 3 });
    expect(s.oldest?.ageSeconds).toBeGreaterThanOrEqual(30 * 60);
  });

  it('summarises 100,000 messages into a few reasons, bounded state and < 64 KB of JSON', () => {
    const acc = new QueueSummaryAccumulator({ now: NOW });
    let lines = 0;
    for (const line of syntheticQueueLines({ count: 100_000, now: NOW })) {
      acc.addLine(line);
      lines++;
    }
    const s = acc.result();
    const json = JSON.stringify(s);
    expect(lines).toBe(100_000);
    expect(s.messages).toBe(100_000);
    expect(s.invalidLines).toBe(0);
    expect(Object.values(s.byQueue).reduce((n, q) => n + q.messages, 0)).toBe(100_000);
    expect(s.ageBuckets.reduce((a, b) => a + b, 0)).toBe(100_000);
    // 100k messages and 7 templates with varying hosts, IPs, addresses and numbers -> a handful of reasons.
    expect(s.deferralReasons.top.length).toBeLessThanOrEqual(8);
    expect(s.deferralReasons.exact).toBe(true);
    expect(s.recipientDomains.top[0]?.key).toBe('domain0.example');
    expect(s.recipientDomains.top).toHaveLength(20);
    // The qshape matrix: the top 10 domains in recipientDomains order, each row within the total.
    expect(s.domainAges?.map((d) => d.domain)).toEqual(s.recipientDomains.top.slice(0, 10).map((e) => e.key));
    for (const row of s.domainAges ?? []) {
      expect(row.buckets.reduce((a, b) => a + b, 0)).toBe(row.total);
      expect(row.total).toBeGreaterThan(0);
      expect(row.total).toBeLessThanOrEqual(100_000);
    }
    expect(Buffer.byteLength(json)).toBeLessThan(LIMIT);
  }, 60_000); // correctness on a large input, not a timing: generous under a loaded CI machine

  it('stays under 64 KB and bounded with hostile input (all keys unique and long)', () => {
    const acc = new QueueSummaryAccumulator({ now: NOW, topK: 50, capacity: 500 });
    const long = 'x'.repeat(300); // beyond the 256-character key cap and the 100-character token cap
    for (let i = 0; i < 100_000; i++) {
      acc.addLine(
        JSON.stringify({
          queue_name: `weird-${i}`,
          queue_id: 'ABCDEF',
          arrival_time: NOW - i,
          message_size: 1,
          sender: `${i}${long}@s`,
          recipients: [{ address: `a@${i}${long}`, delay_reason: `${long} ${i} ${long}` }],
        }),
      );
      if (i % 1000 === 0) acc.addLine(`garbage ${long}`);
    }
    const s = acc.result();
    expect(s.messages).toBe(100_000);
    expect(s.byQueue.other.messages).toBe(100_000);
    expect(s.invalidLines).toBe(100);
    expect(s.invalidSamples.length).toBeLessThanOrEqual(3);
    expect(s.senders.exact).toBe(false);
    expect(s.domainAges?.length).toBeLessThanOrEqual(10);
    for (const row of s.domainAges ?? []) expect(row.domain.length).toBeLessThanOrEqual(256);
    // Age vectors are held only for the domains the bounded top list holds.
    expect(domainBucketsHeld(acc)).toBeLessThanOrEqual(500);
    expect(Buffer.byteLength(JSON.stringify(s))).toBeLessThan(LIMIT);
  }, 60_000); // correctness on a large input, not a timing: generous under a loaded CI machine

  it('keeps an exact qshape matrix of the top domains on a small queue', () => {
    const minutesAgo = (m: number): number => NOW - m * 60;
    const line = (arrivalMinutesAgo: number, ...addresses: string[]): string =>
      JSON.stringify({
        queue_name: 'deferred',
        queue_id: `Q${arrivalMinutesAgo}`,
        arrival_time: minutesAgo(arrivalMinutesAgo),
        message_size: 1,
        sender: 's@here.example',
        recipients: addresses.map((address) => ({ address })),
      });
    const s = summariseQueueJson(
      [
        line(1, 'a@A.example', 'b@a.example'), // two recipients, one domain: one message in its row
        line(7, 'c@a.example', 'd@b.example'), // two domains: the message counts in both rows
        line(30, 'e@a.example'),
        line(2000, 'f@b.example'),
        line(3, 'g@c.example'),
      ].join('\n'),
      { now: NOW },
    );
    const zeros = (): number[] => new Array<number>(10).fill(0);
    const row = (domain: string, counts: Record<number, number>) => {
      const buckets = zeros();
      for (const [i, n] of Object.entries(counts)) buckets[Number(i)] = n;
      return { domain, total: buckets.reduce((x, y) => x + y, 0), buckets };
    };
    expect(s.recipientDomains.top.map((e) => [e.key, e.count])).toEqual([
      ['a.example', 4],
      ['b.example', 2],
      ['c.example', 1],
    ]);
    expect(s.domainAges).toEqual([
      row('a.example', { 0: 1, 1: 1, 3: 1 }),
      row('b.example', { 1: 1, 9: 1 }),
      row('c.example', { 0: 1 }),
    ]);
    expect(s.ageBuckets).toEqual(row('', { 0: 2, 1: 1, 3: 1, 9: 1 }).buckets);
  });

  it('lists at most 10 domains and gives lower bounds once domains were dropped', () => {
    const acc = new QueueSummaryAccumulator({ now: NOW, capacity: 20 });
    const heavy = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const isHeavy = i % 3 === 0;
      const bucket = i % 10;
      if (isHeavy) heavy[bucket] = (heavy[bucket] ?? 0) + 1;
      acc.addMessage({
        queueName: 'deferred',
        queueId: `Q${i}`,
        arrivalTime: NOW - ([1, 6, 11, 21, 41, 81, 161, 321, 641, 1281][bucket] ?? 0) * 60,
        messageSize: 1,
        sender: 's@here.example',
        forcedExpire: false,
        recipients: [{ address: isHeavy ? 'x@heavy.example' : `x@d${i}.example` }],
      });
    }
    const s = acc.result();
    expect(s.recipientDomains.exact).toBe(false);
    expect(s.domainAges?.length).toBeLessThanOrEqual(10);
    expect(s.domainAges?.[0]?.domain).toBe('heavy.example');
    s.domainAges?.[0]?.buckets.forEach((n, i) => expect(n).toBeLessThanOrEqual(heavy[i] ?? 0));
    expect(s.domainAges?.[0]?.total).toBeGreaterThan(0);
    expect(domainBucketsHeld(acc)).toBeLessThanOrEqual(20);
  });

  it('puts ages on qshape bucket edges into the older bucket and unknown queues under other', () => {
    const line = (queue: string, ageSeconds: number): string =>
      JSON.stringify({
        queue_name: queue,
        queue_id: 'A1',
        arrival_time: NOW - ageSeconds,
        message_size: 10,
        sender: 's@x',
        recipients: [{ address: 'r@y' }],
      });
    const ages = [0, 5 * 60 - 1, 5 * 60, 10 * 60, 1279 * 60, 1280 * 60, 10 ** 7, -60];
    const text = [
      ...ages.map((age) => line('deferred', age)),
      line('corrupt', 0),
      line('future-queue', 0),
      '   ',
      '',
    ].join('\n');
    const s = summariseQueueJson(text, { now: NOW });
    const at = (label: string): number | undefined => s.ageBuckets[s.ageBucketLabels.indexOf(label)];
    // "5" = under 5 minutes (0, 4:59, the future one and the two other queues), then one per edge.
    expect([at('5'), at('10'), at('20'), at('1280'), at('1280+')]).toEqual([5, 1, 1, 1, 2]);
    expect(s.byQueue.deferred.messages).toBe(8);
    expect(s.byQueue.corrupt.messages).toBe(1);
    expect(s.byQueue.other).toMatchObject({ messages: 1, recipients: 1, bytes: 10 });
    expect(s.ageBuckets.reduce((a, b) => a + b, 0)).toBe(10);
    expect(s.invalidLines).toBe(0);
  });

  it('counts bad lines instead of throwing, and needs a reference time', () => {
    const s = summariseQueueJson('not json\n{"queue_name":"deferred"}\n\n', { now: NOW });
    expect(s.invalidLines).toBe(2);
    expect(s.invalidSamples[0]).toMatch(/^not JSON/);
    expect(s.invalidSamples[1]).toMatch(/queue_id/);
    expect(() => new QueueSummaryAccumulator({ now: Number.NaN })).toThrow(/epoch seconds/);
  });
});
