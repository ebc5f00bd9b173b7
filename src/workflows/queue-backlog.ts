/**
 * Queue backlog / send failures, as the written runbook has it:
 * 1. Is the relay port listening? If not, the relay is down: hand over to relayUnresponsive.
 * 2. Is the container's relay key present, with safe permissions? If not, [approval] fix them.
 * 3. Does SSH from the container to the relay work?
 * 4. Is the mail server's SASL password for the relay the one in the secret store (relay.sasl)? If not (a
 *    rotation it missed), [approval] write it there and reload Postfix.
 * 5. [approval] Force a retry of the queue (postqueue -f), then wait for it to drain below the threshold.
 * 6. End-to-end verification.
 * A provider relay (no SSH in the config): step 1 asks the relay over SMTP from the mail server instead and
 * hands over to a person with the provider's status and our deferral lines when it does not answer; steps
 * 2 and 3 are skipped (the mail server reaches such a relay over SMTP only).
 */
import { CREDENTIALS_REFUSED } from '../parsers/delay-reason.js';
import { defineRunbook } from './engine/define.js';
import type { RunContext } from './engine/context.js';
import {
  awaitDrain,
  handOverProviderRelay,
  healthyIfMailFlows,
  outboundDeferrals,
  PROVIDER_RELAY,
  providerRelayStatus,
  skipRelaySsh,
  verifiedFix,
} from './steps.js';

/** Step 1 on a provider relay: does it answer over SMTP? If not, hand over with what we see. */
async function providerRelayAnswers(run: RunContext): Promise<void> {
  skipRelaySsh(run, ['relay-port-listening']);
  const status = await providerRelayStatus(run);
  if (status.ok) return;
  const deferrals = await outboundDeferrals(run);
  handOverProviderRelay(run, 'its port and service were not checked', { status, deferrals });
}

/**
 * Steps 2 and 3: the mail server's key for the relay (fixed after approval) and SSH from it to the relay.
 * The key's finding, as it was before any fix.
 */
async function relayClientReady(run: RunContext): Promise<{ ok: boolean; summary: string }> {
  const key = await run.check('relay-key-permissions', (a) => a.relayKeyPermissions(run.target));
  if (!key.ok) {
    await run.act(
      'fix-relay-key-permissions',
      {
        reason: `${key.summary}; ssh refuses such a key. Set it to 0600 and the expected owner.`,
        touches: `one file in the mail server: the relay key ${key.evidence.path}`,
        command: `chmod 0600 ${key.evidence.path} && chown ${key.evidence.expectedOwner} ${key.evidence.path}`,
        ...(key.evidence.insideContainer && {
          lostOnRecreate: `${key.evidence.path} is a file in the container; unless it is on a volume or bind mount, the old owner and mode come back. Fix it where the file comes from as well.`,
        }),
        evidence: key.evidence,
        recheck: async (a) => !(await a.relayKeyPermissions(run.target)).ok,
      },
      (a, onceKey) => a.fixRelayKeyPermissions(run.target, onceKey),
    );
  }

  const ssh = await run.check('ssh-to-relay', (a) => a.sshToRelay(run.target));
  if (!ssh.ok) run.conclude('needs-human', `${ssh.summary}: fix SSH from the container to the relay first`);
  return key;
}

export const queueBacklog = defineRunbook('queueBacklog', async (run) => {
  const queue = await run.check('queue-summary', (a) => a.queueSummary(run.target));

  const provider = run.providerRelay();
  if (provider) {
    await providerRelayAnswers(run);
    skipRelaySsh(run, ['relay-key-permissions', 'ssh-to-relay']);
  } else {
    const port = await run.check('relay-port-listening', (a) => a.relayPortListening(run.target));
    if (!port.ok) {
      run.conclude('needs-human', `${port.summary}: the relay is down, run the relayUnresponsive runbook`);
    }
  }

  // A provider relay is reached over SMTP only: no key, no SSH from the mail server to check.
  const key = provider ? { ok: true, summary: PROVIDER_RELAY } : await relayClientReady(run);

  const creds = await run.check('relay-credentials', (a) => a.relayCredentialsInSync(run.target));
  const credsStale = creds.evidence.files.some((f) => f.differing.length > 0);
  if (credsStale) {
    await run.act(
      'sync-relay-credentials',
      {
        reason: `${creds.summary}: a rotation the mail server has not caught up with. Write the configured password into the mail server's SASL table(s) and reload Postfix.`,
        touches: `the relay password in ${creds.evidence.files
          .filter((f) => f.differing.length > 0)
          .map((f) => f.path)
          .join(', ')} of the mail server, and a Postfix reload`,
        command:
          'rewrite the SASL table(s) with the stored password (new file, 0600, mv), postmap, postfix reload',
        ...(creds.evidence.containerOnly && {
          lostOnRecreate:
            "these tables exist only in the container (no docker-mailserver postfix-sasl-password.cf to rebuild them from), so the old password comes back. Update the tables' source as well.",
        }),
        evidence: creds.evidence,
        recheck: async (a) => !(await a.relayCredentialsInSync(run.target)).ok,
      },
      (a, onceKey) => a.syncRelayCredentials(run.target, onceKey),
    );
  }

  const refused = queue.evidence.deferralReasons.top.find((r) => CREDENTIALS_REFUSED.test(r.key));
  if (refused && !credsStale) {
    run.conclude(
      'needs-human',
      `the relay refuses the mail server's SASL credentials (${refused.key}, ${refused.count} recipients) and ${creds.summary}: fix the relay password (sasl_passwd / the relay's user); a flush would not help`,
    );
  }

  if (queue.ok && key.ok && !credsStale) {
    return healthyIfMailFlows(run, `no backlog: ${queue.summary}`, 'queue is small but mail does not flow');
  }

  if (!queue.ok || refused) {
    await run.act(
      'flush-queue',
      {
        reason: `${queue.summary}; the relay answers, so ask Postfix to retry every deferred message now (postqueue -f).`,
        touches: `every queued message (${queue.evidence.messages} now) is retried at once`,
        command: 'postqueue -f',
        evidence: queue.evidence,
        recheck: async (a) => !(await a.queueSummary(run.target)).ok,
      },
      (a, onceKey) => a.flushQueue(run.target, onceKey),
    );
    if (!queue.ok) await awaitDrain(run);
  }

  return verifiedFix(
    run,
    credsStale
      ? `relay credentials re-synced from the secret store: ${creds.summary}`
      : key.ok
        ? `backlog cleared: ${queue.summary}`
        : `relay key permissions repaired: ${key.summary}`,
  );
});
