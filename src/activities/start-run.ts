/** Starts a scheduled run through the one start path, with the worker's own client (no secrets in input). */
import { Context } from '@temporalio/activity';
import type { ScheduledStartInput, StartRunbookResult } from '../shared/start.js';
import { startRunbook } from '../temporal/start-run.js';

export async function startScheduledRun(input: ScheduledStartInput): Promise<StartRunbookResult> {
  const { client, info } = Context.current();
  // The runbook runs on the task queue the schedule's starter workflow runs on (its activities' queue).
  return startRunbook(client, {
    runbook: input.runbook,
    target: input.target,
    trigger: { kind: 'schedule', ref: input.schedule },
    taskQueue: info.taskQueue,
  });
}
