/**
 * Steps several runbooks share: the end-to-end verification (a canary in through authenticated submission,
 * followed to delivery), waiting for the queue to drain after a flush or requeue, and closing a
 * remediation with that verification.
 */
import { uuid4, workflowInfo } from '@temporalio/workflow';
import type { Conclusion, RunContext } from './engine/context.js';

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
