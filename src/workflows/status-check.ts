/**
 * Runbook 1, status check (read only): the mail server container and its supervisord programs, the queue,
 * the mail log, the relay's port and its logs. Changes nothing.
 */
import { checks } from './engine/policies.js';
import { defineRunbook } from './engine/runbook.js';

export const statusCheck = defineRunbook('statusCheck', async (rb) => {
  const findings = [
    await rb.check('mail-server-state', () => checks.mailServerState(rb.target)),
    await rb.check('supervisor-programs', () => checks.supervisorPrograms(rb.target)),
    await rb.check('queue-summary', () => checks.queueSummary(rb.target)),
    await rb.check('mail-log-tail', () => checks.mailLogTail(rb.target)),
    await rb.check('relay-port-listening', () => checks.relayPortListening(rb.target)),
    await rb.check('relay-logs', () => checks.relayLogs(rb.target)),
  ];
  const problems = findings.filter((f) => !f.ok).map((f) => f.summary);
  return problems.length
    ? { verdict: 'needs-human', cause: problems.join('; ') }
    : { verdict: 'healthy', cause: 'container, programs, queue, mail log and relay all look healthy' };
});
