/**
 * SMTP path diagnosis, one layer at a time from where a mail client stands, stopping at the first that
 * breaks with a plain verdict naming it:
 * 1. DNS: MX with forward-confirmed PTR, SPF, DMARC, DKIM; the submission host resolves.
 * 2. TCP, 3. TLS handshake and certificate, 4. EHLO capabilities, 5. AUTH.
 * 6. Submission of a canary, 7. its delivery (acceptance is not delivery).
 * Changes nothing; the canary goes to the approved canary mailbox, as in every end-to-end verification.
 */
import { defineRunbook } from './engine/define.js';
import { verifyEndToEnd } from './steps.js';

const LAYERS = ['tcp', 'tls', 'ehlo', 'auth'] as const;

export const smtpPathDiagnosis = defineRunbook('smtpPathDiagnosis', async (run) => {
  const dns = await run.check('dns', (a) => a.dnsRecords(run.target));
  if (!dns.ok) run.conclude('needs-human', `DNS layer: ${dns.summary}`);

  for (const layer of LAYERS) {
    const probe = await run.check(layer, (a) => a.submissionLayer(run.target, layer));
    if (!probe.ok) run.conclude('needs-human', `${layer.toUpperCase()} layer: ${probe.summary}`);
  }

  const e2e = await verifyEndToEnd(run);
  if (!e2e.ok) run.conclude('needs-human', `${e2e.leg} layer: ${e2e.summary}`);
  return { verdict: 'healthy', cause: 'every layer works: DNS, TCP, TLS, EHLO, AUTH, submission, delivery' };
});
