/**
 * Runbook 3, relay unresponsive (seed runbook "Cloud relay 无响应"): is the watchdog alive? -> read the
 * relay's error log -> [approval] restart the watchdog -> wait until the relay port listens ->
 * [approval] flush the queue -> end-to-end verification.
 */
import { verifyEndToEnd } from './end-to-end.js';
import { actions, checks, waits } from './engine/policies.js';
import { defineRunbook } from './engine/runbook.js';
import { awaitDrain, lastSummary, verifiedFix } from './steps.js';

export const relayUnresponsive = defineRunbook('relayUnresponsive', async (rb) => {
  const watchdog = await rb.check('relay-watchdog-alive', () => checks.relayWatchdogState(rb.target));
  const port = await rb.check('relay-port-listening', () => checks.relayPortListening(rb.target));
  const answers = await rb.check('relay-answers-smtp', () => checks.relayAnswersSmtp(rb.target));
  const logs = await rb.check('relay-logs', () => checks.relayLogs(rb.target));
  const delivery = await rb.check('outbound-deferrals', () => checks.outboundDeferrals(rb.target));

  if (watchdog.ok && port.ok && answers.ok && delivery.ok) {
    return (await verifyEndToEnd(rb))
      ? { verdict: 'healthy', cause: 'the relay is up, answers SMTP and mail flows' }
      : {
          verdict: 'needs-human',
          cause: `the relay looks healthy but mail does not flow: ${lastSummary(rb)}`,
        };
  }

  const cause = [watchdog, port, answers, delivery]
    .filter((o) => !o.ok)
    .map((o) => o.summary)
    .join('; ');
  await rb.act(
    'restart-relay-watchdog',
    {
      reason: `${cause}. Restart the relay's watchdog service.`,
      evidence: {
        watchdog: watchdog.evidence,
        port: port.evidence,
        answers: answers.evidence,
        logs: logs.evidence,
      },
      recheck: async () => !(await checks.relayAnswersSmtp(rb.target)).ok,
    },
    (onceKey) => actions.restartRelayWatchdog(rb.target, onceKey),
  );
  const listening = await rb.check(
    'relay-port-listens-again',
    () => waits.waitRelayListening(rb.target),
    'wait',
  );
  if (!listening.ok) rb.conclude('needs-human', `restarted the watchdog but ${listening.summary}`);

  await rb.act(
    'flush-queue',
    {
      reason:
        'The relay is back: retry the deferred mail now (postqueue -f) instead of waiting for the queue run.',
    },
    (onceKey) => actions.flushQueue(rb.target, onceKey),
  );
  await awaitDrain(rb);
  return verifiedFix(rb, `relay was unresponsive (${cause}); watchdog restarted, queue flushed, mail flows`);
});
