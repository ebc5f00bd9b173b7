/**
 * Runbook 5, end-to-end verification: a canary with a unique token goes in through authenticated
 * submission; acceptance (250 + queue id) is not delivery, so we then follow that queue id in the mail log
 * to `status=sent` through the expected relay, and, when a canary IMAP mailbox is configured, see it arrive.
 * Other runbooks end with the same procedure.
 */
import { uuid4, workflowInfo } from '@temporalio/workflow';
import { checks, waits } from './engine/policies.js';
import { defineRunbook, type Conclusion, type Runbook } from './engine/runbook.js';

export async function verifyEndToEnd(rb: Runbook): Promise<boolean> {
  if (!rb.plan.canaryConfigured) {
    await rb.check(
      'end-to-end',
      async () => ({ ok: false, summary: 'no canary configured for this target', evidence: {} }),
      'verify',
    );
    return false;
  }
  const token = `mrb-${workflowInfo().workflowId.slice(0, 40)}-${uuid4()}`;
  const accepted = await rb.check('canary-accepted', () => checks.sendCanary(rb.target, token), 'verify');
  if (!accepted.ok) return false;
  const delivered = await rb.check(
    'canary-delivered',
    () => waits.waitCanaryDelivered(rb.target, { queueId: accepted.evidence.queueId, token }),
    'verify',
  );
  return delivered.ok;
}

export const endToEndVerification = defineRunbook('endToEndVerification', async (rb): Promise<Conclusion> => {
  return (await verifyEndToEnd(rb))
    ? { verdict: 'healthy', cause: 'a canary was accepted and delivered end to end' }
    : { verdict: 'failed', cause: rb.status.steps.at(-1)?.summary ?? 'end-to-end verification failed' };
});
