/**
 * Queue surgery, qmail-remove's idea for Postfix:
 * 1. Select queued messages by sender, recipient, domain, age or deferral reason, and show what matches
 *    (a dry run ends here).
 * 2. [approval] Hold them (the default, reversible: postsuper -h), or release (-H) or delete (-d) them.
 * 3. Check that nothing selected is left.
 * Input: {"params": {"sender": "spam@example.com", "action": "hold", "dryRun": false, ...}}.
 * The action reaches only mail the approver was shown: the same criteria, and nothing that arrived later.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { parseSurgeryRequest, SurgeryRequestError, type SurgeryRequest } from '../parsers/queue-selection.js';
import { ERROR_TYPE } from '../shared/errors.js';
import { defineRunbook } from './engine/define.js';

function request(params: unknown): SurgeryRequest {
  try {
    return parseSurgeryRequest(params);
  } catch (err) {
    if (err instanceof SurgeryRequestError)
      throw ApplicationFailure.nonRetryable(err.message, ERROR_TYPE.validation);
    throw err;
  }
}

const POSTSUPER_FLAG: Record<SurgeryRequest['action'], string> = { hold: '-h', release: '-H', delete: '-d' };

const UNDO: Record<SurgeryRequest['action'], string> = {
  hold: 'reversible: release them with action=release',
  release: 'they return to the deferred queue and are retried',
  delete: 'NOT reversible: the messages are gone for good; hold them instead if unsure',
};

export const queueSurgery = defineRunbook('queueSurgery', async (run) => {
  const wanted = request(run.params);

  const selected = await run.check('select-messages', (a) => a.selectQueuedMessages(run.target, wanted));
  const { matched, selectedAt } = selected.evidence;
  if (matched === 0) return { verdict: 'healthy', cause: `${selected.summary}: nothing to do` };
  if (wanted.dryRun) return { verdict: 'healthy', cause: `dry run: ${selected.summary}; nothing changed` };

  const spec = { ...wanted, selectedAt };
  const applied = await run.act(
    `${wanted.action}-messages`,
    {
      reason: `${wanted.action} ${matched} messages: ${selected.summary}. ${UNDO[wanted.action]}.`,
      touches: `${matched} queued messages (${selected.evidence.criteria}), no message that arrives later`,
      command: `postsuper ${POSTSUPER_FLAG[wanted.action]} - (the selected queue ids on standard input)`,
      evidence: selected.evidence,
      // Still worth it while any of the selection is left.
      recheck: async (a) => (await a.selectQueuedMessages(run.target, spec)).evidence.matched > 0,
    },
    (a, onceKey) => a.applyQueueSurgery(run.target, spec, matched, onceKey),
  );
  if (!applied.ok) return { verdict: 'needs-human', cause: applied.summary };

  const left = await run.check('selection-left', (a) => a.selectQueuedMessages(run.target, spec));
  return left.evidence.matched === 0
    ? { verdict: 'fixed', cause: `${applied.summary}; none of the selection is left` }
    : { verdict: 'failed', cause: `${applied.summary}, but ${left.summary}` };
});
