/**
 * End-to-end canary, legs 2 and 3: follow the accepted queue id through the mail log (traceDelivery, across
 * the amavis hop, whose reply names the re-injected queue id) to `status=sent` through the expected relay, then,
 * when the target has a canary IMAP mailbox, wait for the message to arrive there.
 */
import { MailboxWatch } from '../mail/imap.js';
import {
  describeTrace,
  FileFollower,
  parseMailLog,
  traceDelivery,
  traceSettled,
  type MailLogEntry,
  type Trace,
} from '../parsers/index.js';
import type { StepOutcome } from '../shared/types.js';
import { onMailServer, secret } from './context.js';
import { outcome } from './outcome.js';
import { runOk } from './run.js';
import { pollUntil } from './wait.js';

export interface DeliveryEvidence {
  expectRelay: string;
  trace: Trace;
  relayLegMs: number;
  imap?: { mailbox: string; arrived: boolean; arrivalLegMs: number };
}

/** Status lines kept while the relay leg polls (a bound on a very busy server; the canary's are recent). */
const MAX_STATUS_LINES = 50_000;

/** Waits (deliveryTimeoutSeconds) for the canary to leave through the expected relay and arrive over IMAP. */
export async function waitCanaryDelivered(
  targetName: string,
  canary: { queueId: string; token: string },
): Promise<StepOutcome<DeliveryEvidence>> {
  const { target, host, commands } = await onMailServer(targetName);
  const { expectRelay } = target.canary;
  const timeout = target.thresholds.deliveryTimeoutSeconds;
  const started = Date.now();

  // Each poll reads only what the log gained since the previous one, and the trace is followed through every
  // status line read so far: across the amavis hop, the line naming the re-queued id may come a poll earlier
  // than that id's own outcome.
  const log = new FileFollower();
  const statuses: MailLogEntry[] = [];
  const relayLeg = await pollUntil(
    timeout,
    2_000,
    async () => {
      const r = await runOk(host, () => commands.readMailLogFrom(log.position));
      const added = parseMailLog(log.add(r.stdout, r.truncated.stdout)).entries;
      statuses.push(...added.filter((e) => e.status !== undefined));
      if (statuses.length > MAX_STATUS_LINES) statuses.splice(0, statuses.length - MAX_STATUS_LINES);
      return traceDelivery(statuses, canary.queueId, expectRelay);
    },
    traceSettled,
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
  // One connection for the whole leg, searched at each poll.
  const mailbox = new MailboxWatch(settings);
  const arrival = await pollUntil(
    remaining,
    2_000,
    () => mailbox.hasToken(canary.token),
    (found) => found,
  ).finally(() => mailbox.close());
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
