/**
 * Status check, read only: the mail server container and its supervisord programs, the queue, the mail
 * log, the relay's port and its logs. Changes nothing.
 */
import { defineRunbook } from './engine/define.js';

export const statusCheck = defineRunbook('statusCheck', async (run) => {
  const findings = [
    await run.check('mail-server-state', (a) => a.mailServerState(run.target)),
    await run.check('supervisor-programs', (a) => a.supervisorPrograms(run.target)),
    await run.check('queue-summary', (a) => a.queueSummary(run.target)),
    await run.check('mail-log-tail', (a) => a.mailLogTail(run.target)),
    await run.check('relay-port-listening', (a) => a.relayPortListening(run.target)),
    await run.check('relay-logs', (a) => a.relayLogs(run.target)),
  ];
  const problems = findings.filter((f) => !f.ok).map((f) => f.summary);
  return problems.length
    ? { verdict: 'needs-human', cause: problems.join('; ') }
    : { verdict: 'healthy', cause: 'container, programs, queue, mail log and relay all look healthy' };
});
