/**
 * End-to-end canary, legs 2 and 3: follow the accepted queue id through the mail log (traceDelivery, across
 * the amavis hop, whose reply names the re-injected queue id) to `status=sent` through the expected relay, then,
 * when the target has a canary IMAP mailbox, wait for the message to arrive there.
 */
import { MAX_TAIL_LINES } from '../commands/index.js';
import { MailboxWatch } from '../mail/imap.js';
import { describeTrace, parseMailLog, traceDelivery, traceSettled, type Trace } from '../parsers/index.js';
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

/**
 * The relay leg's first look at the mail log: the canary was accepted a moment ago and its way out (amavis,
 * then the relay) takes Postfix about a second, so a look at once nearly always costs a command (a docker
 * exec, the bulk of a canary's CPU) for nothing.
 */
export const FIRST_LOG_LOOK_MS = 1_000;

/** Waits (deliveryTimeoutSeconds) for the canary to leave through the expected relay and arrive over IMAP. */
export async function waitCanaryDelivered(
  targetName: string,
  canary: { queueId: string; token: string },
): Promise<StepOutcome<DeliveryEvidence>> {
  const { target, host, commands } = await onMailServer(targetName);
  const { expectRelay } = target.canary;
  const timeout = target.thresholds.deliveryTimeoutSeconds;
  const started = Date.now();

  const relayLeg = await pollUntil(
    timeout,
    2_000,
    async () => {
      const r = await runOk(host, () => commands.tailMailLog(MAX_TAIL_LINES));
      return traceDelivery(parseMailLog(r.stdout).entries, canary.queueId, expectRelay);
    },
    traceSettled,
    FIRST_LOG_LOOK_MS,
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
