/**
 * A deliberately non-deterministic change of queueBacklog: it asks for the relay port before the queue
 * summary. Replaying a recorded queueBacklog history against this module must fail; the fixture replay
 * test uses it to show that a changed workflow is caught.
 */
import { defineRunbook } from '../../../src/workflows/engine/define.js';

export const queueBacklog = defineRunbook('queueBacklog', async (run) => {
  await run.check('relay-port-listening', (a) => a.relayPortListening(run.target));
  await run.check('queue-summary', (a) => a.queueSummary(run.target));
  return { verdict: 'healthy', cause: 'changed' };
});
