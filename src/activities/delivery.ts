/**
 * End-to-end canary, legs 2 and 3: follow the accepted queue id through the mail log (across the amavis
 * hop, whose reply names the re-injected queue id) to `status=sent` through the expected relay, then,
 * when the target has a canary IMAP mailbox, wait for the message to arrive there.
 */
import { mailServerCommandsFor, MAX_TAIL_LINES } from '../commands/index.js';
import { mailboxHasToken } from '../mail/imap.js';
import { CREDENTIALS_REFUSED, parseMailLog, parseRelay, type MailLogEntry } from '../parsers/index.js';
import type { StepOutcome } from '../shared/types.js';
import { mailServerHost, secret, targetConfig } from './context.js';
import { outcome } from './outcome.js';
import { runOk } from './run.js';
import { pollUntil } from './wait.js';

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

/** Follows a queue id through the log entries: re-injections ("queued as X") are followed up to MAX_HOPS. */
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
    current = /queued as ([0-9A-Za-z]+)/.exec(final.reason ?? '')?.[1];
  }
  return {
    hops,
    delivered: false,
    bounced: hops.some((h) => h.status === 'bounced'),
    ...(lastDeferral !== undefined && { lastDeferral }),
  };
}

export interface DeliveryEvidence {
  expectRelay: string;
  trace: Trace;
  relayLegMs: number;
  imap?: { mailbox: string; arrived: boolean; arrivalLegMs: number };
}

function describeTrace(trace: Trace): string {
  return trace.hops
    .map((h) => `${h.queueId} ${h.status ?? 'no outcome yet'}${h.relay ? ` via ${h.relay}` : ''}`)
    .join(' -> ');
}

/** Waits (deliveryTimeoutSeconds) for the canary to leave through the expected relay and arrive over IMAP. */
export async function waitCanaryDelivered(
  targetName: string,
  canary: { queueId: string; token: string },
): Promise<StepOutcome<DeliveryEvidence>> {
  const target = await targetConfig(targetName);
  const host = await mailServerHost(target);
  const { expectRelay } = target.canary;
  const timeout = target.thresholds.deliveryTimeoutSeconds;
  const started = Date.now();

  const relayLeg = await pollUntil(
    timeout,
    2_000,
    async () => {
      const r = await runOk(host, () => mailServerCommandsFor(target.mailServer).tailMailLog(MAX_TAIL_LINES));
      return traceDelivery(parseMailLog(r.stdout).entries, canary.queueId, expectRelay);
    },
    (t) => t.delivered || t.bounced || CREDENTIALS_REFUSED.test(t.lastDeferral ?? ''),
  );
  const trace = relayLeg.last;
  const relayLegMs = Date.now() - started;
  const evidence: DeliveryEvidence = { expectRelay, trace, relayLegMs };
  if (!trace.delivered) {
    const why = trace.bounced
      ? `bounced: ${trace.hops.at(-1)?.reason ?? ''}`
      : `not sent through ${expectRelay} within ${timeout} s${trace.lastDeferral ? `; last deferral: ${trace.lastDeferral}` : ''}`;
    return outcome(
      false,
      `relay leg broke: canary ${canary.queueId} ${why} (${describeTrace(trace)})`,
      evidence,
    );
  }

  const imap = target.canary.imap;
  if (!imap) {
    return outcome(
      true,
      `canary sent through ${expectRelay} in ${relayLegMs} ms (${describeTrace(trace)}); no IMAP mailbox configured`,
      evidence,
    );
  }
  const settings = {
    host: imap.host,
    port: imap.port,
    tls: imap.tls,
    ...(imap.ca && { ca: await secret(imap.ca) }),
    ...(imap.servername !== undefined && { servername: imap.servername }),
    user: imap.user,
    password: await secret(imap.password),
    mailbox: imap.mailbox,
  };
  const arrivalStarted = Date.now();
  const remaining = Math.max(10, timeout - Math.round(relayLegMs / 1000));
  const arrival = await pollUntil(
    remaining,
    2_000,
    () => mailboxHasToken(settings, canary.token),
    (found) => found,
  );
  const arrivalLegMs = Date.now() - arrivalStarted;
  evidence.imap = { mailbox: `${imap.user} ${imap.mailbox}`, arrived: arrival.done, arrivalLegMs };
  return arrival.done
    ? outcome(
        true,
        `canary delivered: sent through ${expectRelay} in ${relayLegMs} ms, in ${imap.user}'s ${imap.mailbox} ${arrivalLegMs} ms later`,
        evidence,
      )
    : outcome(
        false,
        `arrival leg broke: sent through ${expectRelay} but not in ${imap.user}'s ${imap.mailbox} within ${remaining} s`,
        evidence,
      );
}
