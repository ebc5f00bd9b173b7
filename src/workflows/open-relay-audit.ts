/**
 * Runbook 8, open-relay audit (seed 004), read only: unauthenticated relaying must be refused.
 * trusted networks (mynetworks: no whole private range wider than /24, no public range) -> relay
 * restrictions (reject_unauth_destination or defer_unauth_destination in effect) -> submission ports
 * (587/465) turn AUTH on and require it -> the container does not use host networking -> a live
 * unauthenticated relay attempt from the worker's side, when the config names the server's public SMTP
 * port (audit.smtpPort; otherwise skipped, and the evidence says so). Changes nothing: no approvals.
 */
import { checks } from './engine/policies.js';
import { defineRunbook } from './engine/runbook.js';

export const openRelayAudit = defineRunbook('openRelayAudit', async (rb) => {
  const findings = [
    await rb.check('trusted-networks', () => checks.trustedNetworks(rb.target)),
    await rb.check('relay-restrictions', () => checks.relayRestrictions(rb.target)),
    await rb.check('submission-auth', () => checks.submissionAuth(rb.target)),
    await rb.check('container-networking', () => checks.mailServerNetworking(rb.target)),
    await rb.check('relay-probe', () => checks.openRelayProbe(rb.target)),
  ];
  const problems = findings.filter((f) => !f.ok).map((f) => f.summary);
  return problems.length
    ? { verdict: 'needs-human', cause: `relaying is not locked down: ${problems.join('; ')}` }
    : {
        verdict: 'healthy',
        cause: `unauthenticated relaying is refused: ${findings.map((f) => f.summary).join('; ')}`,
      };
});
