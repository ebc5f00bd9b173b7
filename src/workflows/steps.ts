/**
 * Steps several runbooks end with, written once: wait for the queue to drain after a flush or requeue,
 * and close a remediation with the end-to-end verification.
 */
import { verifyEndToEnd } from './end-to-end.js';
import { waits } from './engine/policies.js';
import type { Conclusion, Runbook } from './engine/runbook.js';

/** The summary of the last step run, for causes that quote what went wrong. */
export const lastSummary = (rb: Runbook): string => rb.status.steps.at(-1)?.summary ?? '';

/** Waits (bounded by the target's drainTimeoutSeconds) for the queue to drain; hands over if it does not. */
export async function awaitDrain(rb: Runbook): Promise<void> {
  const drained = await rb.check('queue-drains', () => waits.waitQueueDrained(rb.target), 'wait');
  if (!drained.ok) rb.conclude('needs-human', drained.summary);
}

/** After a fix: `fixed` with this cause when a canary gets through end to end, else `failed`. */
export async function verifiedFix(rb: Runbook, cause: string): Promise<Conclusion> {
  return (await verifyEndToEnd(rb))
    ? { verdict: 'fixed', cause }
    : { verdict: 'failed', cause: `end-to-end verification failed after the fix: ${lastSummary(rb)}` };
}
