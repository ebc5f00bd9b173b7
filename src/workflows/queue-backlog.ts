/**
 * Runbook 2, queue backlog / send failures (seed runbook "发送失败 / 队列积压"):
 * relay port listening? -> the container's relay key present with safe permissions? -> SSH from the
 * container to the relay works? -> the mail server's SASL password for the relay is the one in the secret
 * store (relay.sasl)? if not, [approval] write it there -> [approval] force a retry (postqueue -f) -> wait
 * for the queue to drain below the threshold -> end-to-end verification.
 */
import { CREDENTIALS_REFUSED } from '../parsers/delay-reason.js';
import { verifyEndToEnd } from './end-to-end.js';
import { actions, checks } from './engine/policies.js';
import { defineRunbook } from './engine/runbook.js';
import { awaitDrain, lastSummary, verifiedFix } from './steps.js';

export const queueBacklog = defineRunbook('queueBacklog', async (rb) => {
  const queue = await rb.check('queue-summary', () => checks.queueSummary(rb.target));

  const port = await rb.check('relay-port-listening', () => checks.relayPortListening(rb.target));
  if (!port.ok) {
    rb.conclude('needs-human', `${port.summary}: the relay is down, run the relayUnresponsive runbook`);
  }

  const key = await rb.check('relay-key-permissions', () => checks.relayKeyPermissions(rb.target));
  if (!key.ok) {
    await rb.act(
      'fix-relay-key-permissions',
      {
        reason: `${key.summary}; ssh refuses such a key. Set it to 0600 and the expected owner.`,
        evidence: key.evidence,
        recheck: async () => !(await checks.relayKeyPermissions(rb.target)).ok,
      },
      (onceKey) => actions.fixRelayKeyPermissions(rb.target, onceKey),
    );
  }

  const ssh = await rb.check('ssh-to-relay', () => checks.sshToRelay(rb.target));
  if (!ssh.ok) rb.conclude('needs-human', `${ssh.summary}: fix SSH from the container to the relay first`);

  // A relay that refuses the login after a password rotation: the secret store has the new password.
  const creds = await rb.check('relay-credentials', () => checks.relayCredentialsInSync(rb.target));
  const credsStale = creds.evidence.files.some((f) => f.differing.length > 0);
  if (credsStale) {
    await rb.act(
      'sync-relay-credentials',
      {
        reason: `${creds.summary}: a rotation the mail server has not caught up with. Write the configured password into the mail server's SASL table(s) and reload Postfix.`,
        evidence: creds.evidence,
        recheck: async () => !(await checks.relayCredentialsInSync(rb.target)).ok,
      },
      (onceKey) => actions.syncRelayCredentials(rb.target, onceKey),
    );
  }

  const refused = queue.evidence.deferralReasons.top.find((r) => CREDENTIALS_REFUSED.test(r.key));
  if (refused && !credsStale) {
    rb.conclude(
      'needs-human',
      `the relay refuses the mail server's SASL credentials (${refused.key}, ${refused.count} recipients) and ${creds.summary}: fix the relay password (sasl_passwd / the relay's user); a flush would not help`,
    );
  }

  if (queue.ok && key.ok && !credsStale) {
    return (await verifyEndToEnd(rb))
      ? { verdict: 'healthy', cause: `no backlog: ${queue.summary}` }
      : { verdict: 'needs-human', cause: `queue is small but mail does not flow: ${lastSummary(rb)}` };
  }

  if (!queue.ok || refused) {
    await rb.act(
      'flush-queue',
      {
        reason: `${queue.summary}; the relay answers, so ask Postfix to retry every deferred message now (postqueue -f).`,
        evidence: queue.evidence,
        recheck: async () => !(await checks.queueSummary(rb.target)).ok,
      },
      (onceKey) => actions.flushQueue(rb.target, onceKey),
    );
    if (!queue.ok) await awaitDrain(rb);
  }

  return verifiedFix(
    rb,
    credsStale
      ? `relay credentials re-synced from the secret store: ${creds.summary}`
      : key.ok
        ? `backlog cleared: ${queue.summary}`
        : `relay key permissions repaired: ${key.summary}`,
  );
});
