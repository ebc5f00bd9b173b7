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
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) normaliseDelayReason(`${hostile[i % hostile.length] ?? ''}${i}`);
    expect(performance.now() - started).toBeLessThan(2000);
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
    expect(Buffer.byteLength(JSON.stringify(s))).toBeLessThan(LIMIT);
  }, 60_000); // correctness on a large input, not a timing: generous under a loaded CI machine

  it('counts bad lines instead of throwing, and needs a reference time', () => {
    const s = summariseQueueJson('not json\n{"queue_name":"deferred"}\n\n', { now: NOW });
    expect(s.invalidLines).toBe(2);
    expect(s.invalidSamples[0]).toMatch(/^not JSON/);
    expect(s.invalidSamples[1]).toMatch(/queue_id/);
    expect(() => new QueueSummaryAccumulator({ now: Number.NaN })).toThrow(/epoch seconds/);
  });
});
