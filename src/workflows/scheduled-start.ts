/**
 * What a schedule starts: Temporal's scheduler appends a timestamp to its action's workflow id, so it cannot
 * start a runbook under the one id per (runbook, target). This workflow asks an activity to start the runbook
 * through that one start path; a run already going on the target is left alone (the result says so).
 */
import { proxyActivities } from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import type { ScheduledStartInput, StartRunbookResult } from '../shared/start.js';

const { startScheduledRun } = proxyActivities<typeof activities>({
  startToCloseTimeout: '1 minute',
  // Starting is idempotent (a retry finds the run it started), so retrying a lost answer is safe.
  retry: { initialInterval: '2s', maximumAttempts: 5 },
});

export async function scheduledStart(input: ScheduledStartInput): Promise<StartRunbookResult> {
  return startScheduledRun(input);
}
