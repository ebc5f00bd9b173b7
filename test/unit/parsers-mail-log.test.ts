import { describe, expect, it } from 'vitest';
import { readFixture } from '../fixtures/read-fixture.js';
import {
  parseMailLog,
  parseMailLogLine,
  parseRelay,
  ParseError,
  type MailLogEntry,
} from '../../src/parsers/index.js';

function deliveries(entries: readonly MailLogEntry[]): MailLogEntry[] {
  return entries.filter((e) => e.to !== undefined && e.status !== undefined);
}

describe('mail log (captured, RFC 3339 and classic timestamps)', () => {
  const rfc = parseMailLog(readFixture('mail-log.txt'));
  const classic = parseMailLog(readFixture('mail-log-traditional.txt'));

  it('parses every line of both formats', () => {
    expect(rfc.rejectedCount).toBe(0);
    expect(classic.rejectedCount).toBe(0);
    expect(rfc.entries.length).toBeGreaterThan(100);
    expect(classic.entries.length).toBe(rfc.entries.length);
    expect(rfc.entries.every((e) => e.epochMs !== undefined)).toBe(true);
    expect(classic.entries.every((e) => e.epochMs === undefined)).toBe(true);
  });

  it('reads the same deliveries whatever the timestamp format', () => {
    const strip = (e: MailLogEntry): unknown => ({ ...e, timestamp: undefined, epochMs: undefined });
    expect(deliveries(classic.entries).map(strip)).toEqual(deliveries(rfc.entries).map(strip));
  });

  it('finds sent, bounced, deferred and force-expired deliveries', () => {
    const statuses = new Set(rfc.entries.map((e) => e.status).filter(Boolean));
    expect([...statuses].sort()).toEqual(['bounced', 'deferred', 'force-expired', 'sent']);

    const relayed = deliveries(rfc.entries).find(
      (e) => e.to === 'ok@sink.test' && e.relay?.endsWith(':2626'),
    );
    expect(relayed).toMatchObject({ program: 'postfix/smtp', dsn: '2.0.0', status: 'sent' });
    expect(relayed?.reason).toMatch(/^250 2\.0\.0 Ok: queued as [0-9A-F]+$/);
    expect(relayed?.delays && Object.keys(relayed.delays)).toEqual([
      'beforeQmgr',
      'inQmgr',
      'connSetup',
      'transmission',
    ]);
    expect(parseRelay(relayed?.relay ?? '')).toEqual({ host: '127.0.0.1', address: '127.0.0.1', port: 2626 });

    const local = deliveries(rfc.entries).find((e) => e.origTo === 'ok@sink.test');
    expect(local).toMatchObject({ to: 'root@localhost', relay: 'local', reason: 'delivered to mailbox' });

    const bounced = deliveries(rfc.entries).find(
      (e) => e.to === 'reject@sink.test' && e.status === 'bounced',
    );
    expect(bounced).toMatchObject({ dsn: '5.1.1' });
    // The reason keeps its own nested parentheses.
    expect(bounced?.reason).toMatch(/said: 550 5\.1\.1 .*\(in reply to RCPT TO command\)$/);

    const relayDown = deliveries(rfc.entries).find(
      (e) => e.to === 'carol@remote.test' && e.status === 'deferred',
    );
    expect(relayDown).toMatchObject({
      relay: 'none',
      dsn: '4.4.1',
      reason: 'connect to 127.0.0.1[127.0.0.1]:2526: Connection refused',
    });

    const amavisDown = deliveries(rfc.entries).find(
      (e) => e.program === 'postfix/amavis/smtp' && e.status === 'deferred',
    );
    expect(amavisDown?.reason).toBe('connect to 127.0.0.1[127.0.0.1]:10024: Connection refused');

    const expired = rfc.entries.find((e) => e.status === 'force-expired');
    expect(expired).toMatchObject({
      program: 'postfix/qmgr',
      from: 'erin@capture.test',
      reason: 'returned to sender',
    });
  });

  it('reads qmgr, cleanup, smtpd, bounce and removed lines', () => {
    const e = rfc.entries;
    expect(e.find((x) => x.program === 'postfix/qmgr' && x.nrcpt !== undefined)).toMatchObject({
      nrcpt: 1,
      size: expect.any(Number) as number,
    });
    expect(e.find((x) => x.from === '' && x.size !== undefined)).toBeDefined(); // bounces: from=<>
    expect(e.some((x) => x.removed)).toBe(true);
    expect(e.find((x) => x.messageId !== undefined)?.messageId).toMatch(/@mail\.capture\.test$/);
    expect(e.find((x) => x.client !== undefined)?.client).toBe('localhost[127.0.0.1]');
    expect(e.find((x) => x.bounceQueueId !== undefined)?.bounceQueueId).toMatch(/^[0-9A-F]+$/);
    // Lines without a queue id (amavis, connect from ..., NOQUEUE rejects) keep program and message only.
    const noqueue = e.find((x) => x.message.startsWith('NOQUEUE: reject:'));
    expect(noqueue?.queueId).toBeUndefined();
    expect(e.find((x) => x.program === 'amavis')?.pid).toBeGreaterThan(0);
  });
});

describe('mail log lines (synthetic)', () => {
  it('reads the domain notes examples and a long queue id', () => {
    const e = parseMailLogLine(
      'Mar  1 12:34:56 mx postfix/smtp[123]: 4cJ0Vh5Vw5z1N: to=<b@remote.test>, relay=mx.remote.test[192.0.2.1]:25, ' +
        'delay=13, delays=13/0/0.04/0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as X)',
    );
    expect(e).toMatchObject({
      timestamp: 'Mar  1 12:34:56',
      host: 'mx',
      pid: 123,
      queueId: '4cJ0Vh5Vw5z1N',
      delay: 13,
    });
    expect(parseMailLogLine('2024-03-01T12:34:56Z h postfix/qmgr[1]: 70DCF1825B5: removed').removed).toBe(
      true,
    );
    const expired = parseMailLogLine(
      'Mar  1 12:34:56 mx postfix/qmgr[1]: 70DCF1825B5: from=<a@x>, status=expired, returned to sender',
    );
    expect(expired).toMatchObject({ status: 'expired', reason: 'returned to sender' });
  });

  it('keeps unknown statuses in fields, not in status', () => {
    const e = parseMailLogLine(
      'Mar  1 12:34:56 mx postfix/x[1]: 70DCF1825B5: to=<a@b>, status=quarantined (why)',
    );
    expect(e.status).toBeUndefined();
    expect(e.fields?.status).toBe('quarantined');
  });

  it('rejects non-syslog lines with a clear error, and counts them in a tail', () => {
    expect(() => parseMailLogLine('garbage')).toThrow(ParseError);
    expect(() => parseMailLogLine('garbage', 7)).toThrow(/no syslog timestamp.*line 7/);
    const log = parseMailLog('x\nMar  1 12:34:56 mx postfix/qmgr[1]: 70DCF1825B5: removed\ny\n', 1);
    expect(log.entries).toHaveLength(1);
    expect(log).toMatchObject({ rejectedCount: 2, rejected: [{ line: 1 }] });
  });
});
