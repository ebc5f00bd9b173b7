/**
 * Runbook 10, SMTP path diagnosis (seed 002: "debug one layer at a time"), from where a mail client
 * stands: DNS (MX with forward-confirmed PTR, SPF, DMARC, DKIM; the submission host resolves) -> TCP ->
 * TLS handshake and certificate -> EHLO capabilities -> AUTH -> submission of a canary -> its delivery.
 * Stops at the first layer that breaks, with a plain verdict naming it. Changes nothing; the canary goes
 * to the approved canary mailbox, as in every end-to-end verification.
 */
import { verifyEndToEnd } from './end-to-end.js';
import { checks } from './engine/policies.js';
import { defineRunbook } from './engine/runbook.js';
import { lastSummary } from './steps.js';

const LAYERS = ['tcp', 'tls', 'ehlo', 'auth'] as const;

export const smtpPathDiagnosis = defineRunbook('smtpPathDiagnosis', async (rb) => {
  const dns = await rb.check('dns', () => checks.dnsRecords(rb.target));
  if (!dns.ok) rb.conclude('needs-human', `DNS layer: ${dns.summary}`);

  for (const layer of LAYERS) {
    const probe = await rb.check(layer, () => checks.submissionLayer(rb.target, layer));
    if (!probe.ok) rb.conclude('needs-human', `${layer.toUpperCase()} layer: ${probe.summary}`);
  }

  // Acceptance is not delivery: the canary must reach the mailbox through the expected relay.
  if (!(await verifyEndToEnd(rb))) {
    const leg = rb.status.steps.at(-1)?.name === 'canary-accepted' ? 'submission' : 'delivery';
    rb.conclude('needs-human', `${leg} layer: ${lastSummary(rb)}`);
  }
  return { verdict: 'healthy', cause: 'every layer works: DNS, TCP, TLS, EHLO, AUTH, submission, delivery' };
});
