/**
 * Steps several runbooks share: the end-to-end verification (a canary in through authenticated submission,
 * followed to delivery), waiting for the queue to drain after a flush or requeue, and closing a
 * remediation with that verification.
 */
import { uuid4, workflowInfo } from '@temporalio/workflow';
import type { StepKind } from '../shared/types.js';
import type { Activities, Conclusion, RunContext } from './engine/context.js';

export type EndToEnd = { ok: true } | { ok: false; leg: 'submission' | 'delivery'; summary: string };

/**
 * Acceptance (250 + queue id) is not delivery: the canary's queue id is followed in the mail log to
 * `status=sent` through the expected relay and, when a canary IMAP mailbox is configured, into the mailbox.
 */
export async function verifyEndToEnd(run: RunContext): Promise<EndToEnd> {
  const token = `mrb-${workflowInfo().workflowId.slice(0, 40)}-${uuid4()}`;
  const accepted = await run.verify('canary-accepted', (a) => a.sendCanary(run.target, token));
  if (!accepted.ok) return { ok: false, leg: 'submission', summary: accepted.summary };
  const delivered = await run.verify('canary-delivered', (a) =>
    a.waitCanaryDelivered(run.target, { queueId: accepted.evidence.queueId, token }),
  );
  return delivered.ok ? { ok: true } : { ok: false, leg: 'delivery', summary: delivered.summary };
}

/** Waits (bounded by the target's drainTimeoutSeconds) for the queue to drain; hands over if it does not. */
export async function awaitDrain(run: RunContext): Promise<void> {
  const drained = await run.wait('queue-drains', (a) => a.waitQueueDrained(run.target));
  if (!drained.ok) run.conclude('needs-human', drained.summary);
}

/** After a fix: `fixed` with this cause when a canary gets through end to end, else `failed`. */
export async function verifiedFix(run: RunContext, cause: string): Promise<Conclusion> {
  const e2e = await verifyEndToEnd(run);
  return e2e.ok
    ? { verdict: 'fixed', cause }
    : { verdict: 'failed', cause: `end-to-end verification failed after the fix: ${e2e.summary}` };
}

/** When nothing looked broken: `healthy` if mail flows end to end, else hand over with what broke. */
export async function healthyIfMailFlows(
  run: RunContext,
  healthy: string,
  otherwise: string,
): Promise<Conclusion> {
  const e2e = await verifyEndToEnd(run);
  return e2e.ok
    ? { verdict: 'healthy', cause: healthy }
    : { verdict: 'needs-human', cause: `${otherwise}: ${e2e.summary}` };
}

/** Why a step that needs the relay's SSH did not run: said in the step and in the hand-over. */
export const PROVIDER_RELAY = 'the relay is a provider relay: no SSH in config';

/** Deferral lines quoted in a hand-over's cause (the step's evidence keeps more). */
const QUOTED_DEFERRALS = 3;

/** Records steps that need the relay host's SSH as skipped on a provider relay, each saying why. */
export function skipRelaySsh(run: RunContext, steps: readonly string[], kind: StepKind = 'check'): void {
  for (const step of steps) run.skip(step, kind, `skipped: ${PROVIDER_RELAY}`);
}

type Outcome<K extends keyof Activities> = Awaited<ReturnType<Activities[K]>>;

/** What we can know of a provider relay: its SMTP face (from the mail server) and our log's deferrals. */
export interface ProviderRelayFindings {
  status: Outcome<'providerRelayStatus'>;
  /** Absent when the run did not get that far (the relay does not even answer). */
  login?: Outcome<'providerRelayLogin'>;
  deferrals: Outcome<'outboundDeferrals'>;
}

/** The relay's SMTP status from the mail server: banner, STARTTLS and its handshake, AUTH offered. */
export function providerRelayStatus(run: RunContext): Promise<Outcome<'providerRelayStatus'>> {
  return run.check('provider-relay-smtp', (a) => a.providerRelayStatus(run.target));
}

/** Do the configured credentials log in (from the worker; no mail sent)? Ok when none are configured. */
export function providerRelayLogin(run: RunContext): Promise<Outcome<'providerRelayLogin'>> {
  return run.check('provider-relay-login', (a) => a.providerRelayLogin(run.target));
}

/** Our mail log's deferrals through (or to) the relay, with the last lines. */
export function outboundDeferrals(run: RunContext): Promise<Outcome<'outboundDeferrals'>> {
  return run.check('outbound-deferrals', (a) => a.outboundDeferrals(run.target));
}

/**
 * Hands a provider relay's trouble to a person (needs-human): what we did not do and why, the provider's
 * status as we saw it over SMTP, and the deferral reasons from our own mail log. Nothing is restarted:
 * there is nothing of the relay we can reach.
 */
export function handOverProviderRelay(run: RunContext, skipped: string, f: ProviderRelayFindings): never {
  const lines = f.deferrals.evidence.deferredLines ?? [];
  const quoted = lines.slice(-QUOTED_DEFERRALS);
  run.conclude(
    'needs-human',
    [
      `${PROVIDER_RELAY}, so ${skipped}. Hand over to the provider (its status page or support) with what we see`,
      `SMTP probe from the mail server: ${f.status.summary}`,
      ...(f.login ? [`Login: ${f.login.summary}`] : []),
      `Our mail log: ${f.deferrals.summary}`,
      ...(quoted.length
        ? [
            `Last ${quoted.length} of ${f.deferrals.evidence.deferredInTail} deferral lines: ${quoted.join(' | ')}`,
          ]
        : []),
    ].join('. '),
  );
}
