/**
 * Status check, read only: the mail server container and its supervisord programs, the queue, the mail
 * log, the relay's port and its logs. Changes nothing. A provider relay (no SSH in the config): its port
 * and logs are skipped, saying so, and it is asked over SMTP from the mail server instead.
 */
import type { StepOutcome } from '../shared/types.js';
import type { RunContext } from './engine/context.js';
import { defineRunbook } from './engine/define.js';
import { providerRelayStatus, skipRelaySsh } from './steps.js';

async function relayFindings(run: RunContext): Promise<StepOutcome<unknown>[]> {
  if (run.providerRelay()) {
    skipRelaySsh(run, ['relay-port-listening', 'relay-logs']);
    return [await providerRelayStatus(run)];
  }
  return [
    await run.check('relay-port-listening', (a) => a.relayPortListening(run.target)),
    await run.check('relay-logs', (a) => a.relayLogs(run.target)),
  ];
}

export const statusCheck = defineRunbook('statusCheck', async (run) => {
  const findings = [
    await run.check('mail-server-state', (a) => a.mailServerState(run.target)),
    await run.check('supervisor-programs', (a) => a.supervisorPrograms(run.target)),
    await run.check('queue-summary', (a) => a.queueSummary(run.target)),
    await run.check('mail-log-tail', (a) => a.mailLogTail(run.target)),
    ...(await relayFindings(run)),
  ];
  const problems = findings.filter((f) => !f.ok).map((f) => f.summary);
  return problems.length
    ? { verdict: 'needs-human', cause: problems.join('; ') }
    : { verdict: 'healthy', cause: 'container, programs, queue, mail log and relay all look healthy' };
});
