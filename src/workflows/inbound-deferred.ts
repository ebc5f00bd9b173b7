/**
 * Runbook 4, inbound mail stuck or deferred: amavis listening (10024 content filter, 10025 re-injection)?
 * -> Postfix has the re-injection service (postconf -M / -n)? -> supervisord states ->
 * [approval] restart the failed program -> [approval] requeue the deferred mail -> end-to-end verification.
 */
import { verifyEndToEnd } from './end-to-end.js';
import { actions, checks, waits } from './engine/policies.js';
import { defineRunbook } from './engine/runbook.js';
import { awaitDrain, lastSummary, verifiedFix } from './steps.js';

export const inboundDeferred = defineRunbook('inboundDeferred', async (rb) => {
  const amavis = await rb.check('amavis-listening', () => checks.amavisListening(rb.target));
  const reinjection = await rb.check('reinjection-service', () => checks.reinjectionService(rb.target));
  const programs = await rb.check('supervisor-programs', () => checks.supervisorPrograms(rb.target));
  const queue = await rb.check('queue-summary', () => checks.queueSummary(rb.target));

  if (!reinjection.ok) {
    rb.conclude('needs-human', `${reinjection.summary}: Postfix's master.cf must be fixed by hand`);
  }
  const failed = programs.evidence.notRunning;
  if (amavis.ok && failed.length === 0) {
    if (!queue.ok) rb.conclude('needs-human', `amavis and all programs run, yet ${queue.summary}`);
    return (await verifyEndToEnd(rb))
      ? {
          verdict: 'healthy',
          cause: 'amavis listens, re-injection is configured, all programs run, mail flows',
        }
      : {
          verdict: 'needs-human',
          cause: `inbound path looks healthy but mail does not flow: ${lastSummary(rb)}`,
        };
  }

  const restart = failed.length ? failed : ['amavis'];
  for (const program of restart) {
    await rb.act(
      `restart-${program}`,
      {
        reason: `${amavis.ok ? '' : `${amavis.summary}; `}supervisord program ${program} is not running. Restart it.`,
        evidence: { amavis: amavis.evidence, programs: programs.evidence },
        recheck: async () => !(await checks.amavisListening(rb.target)).ok,
      },
      (onceKey) => actions.restartProgram(rb.target, program, onceKey),
    );
  }
  const back = await rb.check('amavis-listening-again', () => waits.waitAmavisListening(rb.target), 'wait');
  if (!back.ok) rb.conclude('needs-human', `restarted ${restart.join(', ')} but ${back.summary}`);

  await rb.act(
    'requeue-deferred',
    {
      reason:
        'Amavis is back: requeue the deferred mail (postsuper -r ALL deferred) so it passes the filter again.',
      evidence: queue.evidence,
    },
    (onceKey) => actions.requeueDeferred(rb.target, onceKey),
  );
  await awaitDrain(rb);
  return verifiedFix(
    rb,
    `inbound mail was deferred (${amavis.summary}); restarted ${restart.join(', ')} and requeued`,
  );
});
