/**
 * Following a queue id through the mail log (src/parsers/delivery-trace.ts) on the captured logs
 * (test/fixtures/mail-log*.txt: amavis on 10024 re-injecting on 10025, a relay sink on 2626 that
 * delivers locally, deferrals and bounces) and on short excerpts of the same lines.
 */
import { describe, expect, it } from 'vitest';
import {
  describeTrace,
  parseMailLog,
  traceDelivery,
  traceSettled,
  type MailLogEntry,
} from '../../src/parsers/index.js';
import { readFixture } from '../fixtures/read-fixture.js';

const AMAVIS = '127.0.0.1[127.0.0.1]:10024';
const SINK = '127.0.0.1[127.0.0.1]:2626';
const REFUSED = 'connect to 127.0.0.1[127.0.0.1]:2526: Connection refused';

describe.each(['mail-log.txt', 'mail-log-traditional.txt'])('delivery trace on the captured %s', (file) => {
  const entries = parseMailLog(readFixture(file)).entries;

  it('several hops: amavis, re-injected, relayed to the sink, delivered there locally', () => {
    const trace = traceDelivery(entries, '5D8D212E571', 'local');
    expect(trace.delivered).toBe(true);
    expect(trace.hops.map((h) => [h.queueId, h.relay, h.status])).toEqual([
      ['5D8D212E571', AMAVIS, 'sent'],
      ['9830C12E581', SINK, 'sent'],
      ['A8D2312E580', 'local', 'sent'],
    ]);
    expect(trace.hops[0]?.reason).toBe(
      '250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 9830C12E581',
    );
    expect(describeTrace(trace)).toBe(
      `5D8D212E571 sent via ${AMAVIS} -> 9830C12E581 sent via ${SINK} -> A8D2312E580 sent via local`,
    );
  });

  it('delivered through the wrong relay: every hop sent, none through the expected one', () => {
    const trace = traceDelivery(entries, '5D8D212E571', 'relay.lab.test');
    expect(trace).toMatchObject({ delivered: false, bounced: false });
    expect(trace.lastDeferral).toBeUndefined();
    expect(trace.hops.map((h) => h.status)).toEqual(['sent', 'sent', 'sent']);
    expect(traceSettled(trace)).toBe(false);
  });

  it('a bounce after the amavis hop', () => {
    const trace = traceDelivery(entries, '6257312E56F', 'relay.lab.test');
    expect(trace).toMatchObject({ delivered: false, bounced: true });
    expect(trace.hops.map((h) => [h.queueId, h.status])).toEqual([
      ['6257312E56F', 'sent'],
      ['ADAC012E580', 'bounced'],
    ]);
    expect(trace.hops[1]?.reason).toMatch(/said: 550 5\.1\.1 <reject@sink\.test>/);
    expect(traceSettled(trace)).toBe(true);
  });

  it('a deferral after the amavis hop (relay port closed) is kept as the last deferral', () => {
    const trace = traceDelivery(entries, '6E52A12E574', 'relay.lab.test');
    expect(trace).toEqual({
      hops: [
        expect.objectContaining({ queueId: '6E52A12E574', relay: AMAVIS, status: 'sent' }),
        { queueId: 'C07B912E580', relay: 'none', status: 'deferred', reason: REFUSED, delay: 0 },
      ],
      delivered: false,
      bounced: false,
      lastDeferral: REFUSED,
    });
    expect(traceSettled(trace)).toBe(false);
  });

  it('amavis down: deferred at the first hop', () => {
    const trace = traceDelivery(entries, 'DA57312E565', 'relay.lab.test');
    expect(trace.hops).toHaveLength(1);
    expect(trace.lastDeferral).toBe('connect to 127.0.0.1[127.0.0.1]:10024: Connection refused');
  });

  it('a queue id without an outcome yet', () => {
    expect(traceDelivery(entries, 'D6E7412E57A0', 'relay.lab.test')).toEqual({
      hops: [{ queueId: 'D6E7412E57A0' }],
      delivered: false,
      bounced: false,
    });
    expect(describeTrace(traceDelivery(entries, 'D6E7412E57A0', 'x'))).toBe('D6E7412E57A0 no outcome yet');
  });
});

/**
 * Lines of the capture with the relay hop's address changed to the lab relay's (relay.lab.test at
 * 172.18.0.3:2526, as posttls-finger-ok.txt saw it), so that the amavis hop and the relay are distinct
 * hosts as in the lab; the SASL deferral is Postfix's wording for a 535 from the relay.
 */
const labExcerpt = (relayOutcome: string): readonly MailLogEntry[] =>
  parseMailLog(
    [
      '2026-11-22T03:23:25.400658+00:00 mail postfix/qmgr[2055]: 5D8D212E571: from=<alice@capture.test>, size=328, nrcpt=1 (queue active)',
      '2026-11-22T03:23:25.623479+00:00 mail postfix/smtpd-amavis/smtpd[2125]: 9830C12E581: client=localhost[127.0.0.1]',
      '2026-11-22T03:23:25.633447+00:00 mail postfix/amavis/smtp[2101]: 5D8D212E571: to=<ok@sink.test>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.29, delays=0.05/0.05/0.02/0.17, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 9830C12E581)',
      '2026-11-22T03:23:25.633644+00:00 mail postfix/qmgr[2055]: 5D8D212E571: removed',
      `2026-11-22T03:23:25.693883+00:00 mail postfix/smtp[2127]: 9830C12E581: to=<ok@sink.test>, ${relayOutcome}`,
    ].join('\n'),
  ).entries;

describe('delivery trace through the amavis hop to the lab relay', () => {
  it('queue id A -> amavis -> queued as B -> B sent through the expected relay', () => {
    const entries = labExcerpt(
      'relay=relay.lab.test[172.18.0.3]:2526, delay=0.07, delays=0/0.03/0.03/0.01, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as A8D2312E580)',
    );
    const trace = traceDelivery(entries, '5D8D212E571', 'relay.lab.test');
    expect(trace).toEqual({
      hops: [
        expect.objectContaining({ queueId: '5D8D212E571', relay: AMAVIS, status: 'sent', delay: 0.29 }),
        {
          queueId: '9830C12E581',
          relay: 'relay.lab.test[172.18.0.3]:2526',
          status: 'sent',
          reason: '250 2.0.0 Ok: queued as A8D2312E580',
          delay: 0.07,
        },
      ],
      delivered: true,
      bounced: false,
    });
    expect(traceSettled(trace)).toBe(true);
  });

  it('sent directly to the MX instead: not delivered, and the remote queue id has no outcome here', () => {
    const entries = labExcerpt(
      'relay=mx.sink.test[192.0.2.25]:25, delay=0.07, delays=0/0.03/0.03/0.01, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4F1E2D3C2B)',
    );
    const trace = traceDelivery(entries, '5D8D212E571', 'relay.lab.test');
    expect(trace.delivered).toBe(false);
    expect(describeTrace(trace)).toBe(
      `5D8D212E571 sent via ${AMAVIS} -> 9830C12E581 sent via mx.sink.test[192.0.2.25]:25 -> 4F1E2D3C2B no outcome yet`,
    );
    // Not settled: the activity keeps polling until its deadline (the summary then shows this trace).
    expect(traceSettled(trace)).toBe(false);
  });

  it('the relay refuses the credentials: settled without waiting for the deadline', () => {
    const entries = labExcerpt(
      'relay=relay.lab.test[172.18.0.3]:2526, delay=0.07, delays=0/0.03/0.03/0.01, dsn=4.7.8, status=deferred (SASL authentication failed; server relay.lab.test[172.18.0.3] said: 535 5.7.8 Error: authentication failed: authentication failure)',
    );
    const trace = traceDelivery(entries, '5D8D212E571', 'relay.lab.test');
    expect(trace.delivered).toBe(false);
    expect(trace.lastDeferral).toMatch(/^SASL authentication failed/);
    expect(traceSettled(trace)).toBe(true);
  });

  it('follows at most four hops (a re-injection loop does not run on)', () => {
    const loop = ['AAAAAAAAAA', 'BBBBBBBBBB'].map(
      (id, i, ids) =>
        `2026-11-22T03:23:25.633447+00:00 mail postfix/amavis/smtp[2101]: ${id}: to=<ok@sink.test>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.29, delays=0.05/0.05/0.02/0.17, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ${ids[1 - i]})`,
    );
    const trace = traceDelivery(parseMailLog(loop.join('\n')).entries, 'AAAAAAAAAA', 'relay.lab.test');
    expect(trace.hops.map((h) => h.queueId)).toEqual([
      'AAAAAAAAAA',
      'BBBBBBBBBB',
      'AAAAAAAAAA',
      'BBBBBBBBBB',
    ]);
    expect(trace.delivered).toBe(false);
  });
});
