/**
 * Relay unresponsive, as the written runbook has it:
 * 1. Is the relay's watchdog alive, its port listening, does it answer SMTP, is outbound mail deferred?
 * 2. Read the relay's error log (evidence for the approver).
 * 3. [approval] Restart the watchdog, then wait until the relay port listens again.
 * 4. [approval] Flush the queue, then wait for it to drain.
 * 5. End-to-end verification.
 * A provider relay (no SSH in the config) is checked over SMTP only: its banner, STARTTLS and AUTH from the
 * mail server, a login with the configured credentials, and our mail log's deferrals; then, unless mail
 * flows, the run hands over to a person with what it saw. Nothing is restarted.
 */
import type { RunContext } from './engine/context.js';
import { defineRunbook } from './engine/define.js';
import {
  awaitDrain,
  handOverProviderRelay,
  healthyIfMailFlows,
  outboundDeferrals,
  providerRelayLogin,
  providerRelayStatus,
  skipRelaySsh,
  verifiedFix,
} from './steps.js';

/** The relay host's own checks: they need its SSH. */
const RELAY_HOST_CHECKS = ['relay-watchdog-alive', 'relay-port-listening', 'relay-logs'];

async function providerRelayUnresponsive(run: RunContext) {
  skipRelaySsh(run, RELAY_HOST_CHECKS);
  const status = await providerRelayStatus(run);
  const login = await providerRelayLogin(run);
  const deferrals = await outboundDeferrals(run);
  if (status.ok && login.ok && deferrals.ok) {
    return healthyIfMailFlows(
      run,
      'the provider relay answers over TLS, takes our login and mail flows',
      'the provider relay looks healthy but mail does not flow',
    );
  }
  skipRelaySsh(run, ['restart-relay-watchdog'], 'action');
  return handOverProviderRelay(run, 'its service was not checked or restarted', { status, login, deferrals });
}

export const relayUnresponsive = defineRunbook('relayUnresponsive', async (run) => {
  if (run.providerRelay()) return providerRelayUnresponsive(run);
  const watchdog = await run.check('relay-watchdog-alive', (a) => a.relayWatchdogState(run.target));
  const port = await run.check('relay-port-listening', (a) => a.relayPortListening(run.target));
  const answers = await run.check('relay-answers-smtp', (a) => a.relayAnswersSmtp(run.target));
  const logs = await run.check('relay-logs', (a) => a.relayLogs(run.target));
  const delivery = await outboundDeferrals(run);

  if (watchdog.ok && port.ok && answers.ok && delivery.ok) {
    return healthyIfMailFlows(
      run,
      'the relay is up, answers SMTP and mail flows',
      'the relay looks healthy but mail does not flow',
    );
  }

  const cause = [watchdog, port, answers, delivery]
    .filter((o) => !o.ok)
    .map((o) => o.summary)
    .join('; ');
  await run.act(
    'restart-relay-watchdog',
    {
      reason: `${cause}. Restart the relay's watchdog service.`,
      touches: `the relay's watchdog service (${watchdog.evidence.manager} ${watchdog.evidence.name}) on the relay host: relaying stops while it restarts`,
      command: `restart ${watchdog.evidence.manager} ${watchdog.evidence.name}`,
      evidence: {
        watchdog: watchdog.evidence,
        port: port.evidence,
        answers: answers.evidence,
        logs: logs.evidence,
      },
      // Still broken while any of the findings that proposed the restart still fails.
      recheck: async (a) =>
        !(await a.relayWatchdogState(run.target)).ok ||
        !(await a.relayPortListening(run.target)).ok ||
        !(await a.relayAnswersSmtp(run.target)).ok ||
        !(await a.outboundDeferrals(run.target)).ok,
    },
    (a, onceKey) => a.restartRelayWatchdog(run.target, onceKey),
  );
  const listening = await run.wait('relay-port-listens-again', (a) => a.waitRelayListening(run.target));
  if (!listening.ok) run.conclude('needs-human', `restarted the watchdog but ${listening.summary}`);

  await run.act(
    'flush-queue',
    {
      reason:
        'The relay is back: retry the deferred mail now (postqueue -f) instead of waiting for the queue run.',
      touches: 'every queued message is retried at once',
      command: 'postqueue -f',
      // Still worth it while mail waits in the queue.
      recheck: async (a) => !(await a.queueSummary(run.target)).ok,
    },
    (a, onceKey) => a.flushQueue(run.target, onceKey),
  );
  await awaitDrain(run);
  return verifiedFix(run, `relay was unresponsive (${cause}); watchdog restarted, queue flushed, mail flows`);
});
