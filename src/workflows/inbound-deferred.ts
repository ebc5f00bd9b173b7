/**
 * Inbound mail stuck or deferred, as the written runbook has it:
 * 1. Is amavis listening (10024 content filter, 10025 re-injection)? Does it answer SMTP there (a hung amavis
 *    listens but never greets: dsn=4.4.2 ... timed out)?
 * 2. Does Postfix have the re-injection service (postconf -M / -n)? If not, master.cf needs a person.
 * 3. Which supervisord programs are not running?
 * 4. [approval] Restart each failed program (amavis when none is reported), then wait for amavis.
 * 5. [approval] Requeue the deferred mail so it passes the filter again, then wait for the queue to drain.
 * 6. End-to-end verification.
 */
import { patched } from '@temporalio/workflow';
import { defineRunbook } from './engine/define.js';
import { awaitDrain, healthyIfMailFlows, verifiedFix } from './steps.js';

/** Runs before this check was added have no amavis-answers step: they replay without it. */
const AMAVIS_ANSWERS = 'inbound-deferred-amavis-answers';

export const inboundDeferred = defineRunbook('inboundDeferred', async (run) => {
  const amavis = await run.check('amavis-listening', (a) => a.amavisListening(run.target));
  const answers =
    amavis.ok && patched(AMAVIS_ANSWERS)
      ? await run.check('amavis-answers', (a) => a.amavisAnswers(run.target))
      : undefined;
  const hung = answers !== undefined && !answers.ok;
  const reinjection = await run.check('reinjection-service', (a) => a.reinjectionService(run.target));
  const programs = await run.check('supervisor-programs', (a) => a.supervisorPrograms(run.target));
  const queue = await run.check('queue-summary', (a) => a.queueSummary(run.target));

  if (!reinjection.ok) {
    run.conclude('needs-human', `${reinjection.summary}: Postfix's master.cf must be fixed by hand`);
  }
  const failed = programs.evidence.notRunning;
  if (amavis.ok && !hung && failed.length === 0) {
    if (!queue.ok) run.conclude('needs-human', `amavis and all programs run, yet ${queue.summary}`);
    return healthyIfMailFlows(
      run,
      'amavis listens, re-injection is configured, all programs run, mail flows',
      'inbound path looks healthy but mail does not flow',
    );
  }

  const restart = failed.length ? failed : ['amavis'];
  for (const program of restart) {
    await run.act(
      `restart-${program}`,
      {
        reason: hung
          ? `${answers.summary}. Restart ${program}.`
          : `${amavis.ok ? '' : `${amavis.summary}; `}supervisord program ${program} is not running. Restart it.`,
        touches: `supervisord program ${program} in the mail server`,
        command: `supervisorctl restart ${program}`,
        evidence: {
          amavis: amavis.evidence,
          ...(answers && { answers: answers.evidence }),
          programs: programs.evidence,
        },
        // Still broken while amavis does not listen (or, when it hung, does not answer) or this program is
        // still down.
        recheck: async (a) =>
          !(await a.amavisListening(run.target)).ok ||
          (hung && !(await a.amavisAnswers(run.target)).ok) ||
          (await a.supervisorPrograms(run.target)).evidence.notRunning.includes(program),
      },
      (a, onceKey) => a.restartProgram(run.target, program, onceKey),
    );
  }
  const back = await run.wait('amavis-listening-again', (a) => a.waitAmavisListening(run.target));
  if (!back.ok) run.conclude('needs-human', `restarted ${restart.join(', ')} but ${back.summary}`);

  await run.act(
    'requeue-deferred',
    {
      reason:
        'Amavis is back: requeue the deferred mail (postsuper -r ALL deferred) so it passes the filter again.',
      touches: `every deferred message (of ${queue.evidence.messages} queued at the first look) goes through cleanup and the content filter again`,
      command: 'postsuper -r ALL deferred',
      evidence: queue.evidence,
      recheck: async (a) => !(await a.queueSummary(run.target)).ok,
    },
    (a, onceKey) => a.requeueDeferred(run.target, onceKey),
  );
  await awaitDrain(run);
  return verifiedFix(
    run,
    `inbound mail was deferred (${hung ? answers.summary : amavis.summary}); restarted ${restart.join(', ')} and requeued`,
  );
});
