/**
 * Open-relay audit, read only: unauthenticated relaying must be refused.
 * 1. Trusted networks: mynetworks trusts no public range and no private range wider than /24
 *    (docker-mailserver's PERMIT_DOCKER=host or network trusts a whole range).
 * 2. Relay restrictions: reject_unauth_destination or defer_unauth_destination in effect.
 * 3. Submission ports (587/465) turn AUTH on and require it.
 * 4. The container does not use host networking.
 * 5. A live unauthenticated relay attempt from the worker's side, when the config names the server's
 *    public SMTP port (audit.smtpPort; otherwise skipped, and the evidence says so).
 * No approvals: nothing changes.
 */
import { defineRunbook } from './engine/define.js';

export const openRelayAudit = defineRunbook('openRelayAudit', async (run) => {
  const findings = [
    await run.check('trusted-networks', (a) => a.trustedNetworks(run.target)),
    await run.check('relay-restrictions', (a) => a.relayRestrictions(run.target)),
    await run.check('submission-auth', (a) => a.submissionAuth(run.target)),
    await run.check('container-networking', (a) => a.mailServerNetworking(run.target)),
    await run.check('relay-probe', (a) => a.openRelayProbe(run.target)),
  ];
  const problems = findings.filter((f) => !f.ok).map((f) => f.summary);
  return problems.length
    ? { verdict: 'needs-human', cause: `relaying is not locked down: ${problems.join('; ')}` }
    : {
        verdict: 'healthy',
        cause: `unauthenticated relaying is refused: ${findings.map((f) => f.summary).join('; ')}`,
      };
});
