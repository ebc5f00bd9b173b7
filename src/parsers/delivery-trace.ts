/**
 * The path of one message through the mail log: its queue id's delivery outcome, and when it was handed
 * to a local hop that re-queued it (amavis on 10024 re-injecting on 10025, a sink, another Postfix
 * instance: "status=sent (... queued as NEWID)"), the new queue id's outcome, up to MAX_HOPS hops.
 * Pure: log entries in (parseMailLog), a trace out.
 */
import { CREDENTIALS_REFUSED } from './delay-reason.js';
import { parseRelay, type MailLogEntry } from './mail-log.js';

const MAX_HOPS = 4;

export interface Hop {
  queueId: string;
  relay?: string;
  status?: string;
  reason?: string;
  delay?: number;
}

export interface Trace {
  hops: Hop[];
  /** sent through the expected relay */
  delivered: boolean;
  bounced: boolean;
  lastDeferral?: string;
}

const REQUEUED_AS = /queued as ([0-9A-Za-z]+)/;

/**
 * Follows a queue id through the log entries. Per queue id the outcome is its sent or bounced line, else
 * its last status line (a deferral); a sent hop is followed to the queue id named in "queued as X" until
 * it is sent through expectRelay (the relay field's host, as written).
 */
export function traceDelivery(entries: readonly MailLogEntry[], queueId: string, expectRelay: string): Trace {
  const hops: Hop[] = [];
  let current: string | undefined = queueId;
  let lastDeferral: string | undefined;
  for (let hop = 0; current && hop < MAX_HOPS; hop++) {
    const id: string = current;
    current = undefined;
    const outcomes = entries.filter((e) => e.queueId === id && e.status !== undefined);
    const final = outcomes.find((e) => e.status === 'sent' || e.status === 'bounced') ?? outcomes.at(-1);
    if (!final) {
      hops.push({ queueId: id });
      break;
    }
    hops.push({
      queueId: id,
      relay: final.relay,
      status: final.status,
      reason: final.reason,
      delay: final.delay,
    });
    if (final.status === 'deferred') lastDeferral = final.reason;
    if (final.status !== 'sent') break;
    const relayHost = final.relay ? parseRelay(final.relay).host : '';
    if (relayHost === expectRelay) return { hops, delivered: true, bounced: false };
    current = REQUEUED_AS.exec(final.reason ?? '')?.[1];
  }
  return {
    hops,
    delivered: false,
    bounced: hops.some((h) => h.status === 'bounced'),
    ...(lastDeferral !== undefined && { lastDeferral }),
  };
}

/** For summaries, e.g. "5D8D212E571 sent via 127.0.0.1[127.0.0.1]:10024 -> 9830C12E581 deferred via none". */
export function describeTrace(trace: Trace): string {
  return trace.hops
    .map((h) => `${h.queueId} ${h.status ?? 'no outcome yet'}${h.relay ? ` via ${h.relay}` : ''}`)
    .join(' -> ');
}

/** Waiting longer cannot change the answer: delivered, bounced, or the relay refused Postfix's credentials. */
export function traceSettled(trace: Trace): boolean {
  return trace.delivered || trace.bounced || CREDENTIALS_REFUSED.test(trace.lastDeferral ?? '');
}
