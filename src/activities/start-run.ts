/** Starts a scheduled run or fleet through the one start path, with the worker's own client (no secrets in input). */
import { Context } from '@temporalio/activity';
import type { ScheduledFleetInput, ScheduledFleetResult } from '../shared/fleet.js';
import type { ScheduledStartInput, StartRunbookResult } from '../shared/start.js';
import { startRunbook, startScheduledFleetRun } from '../temporal/start-run.js';

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

export async function startScheduledFleet(input: ScheduledFleetInput): Promise<ScheduledFleetResult> {
  const { client, info } = Context.current();
  // The fleet (and so its children) runs on the task queue the schedule's starter workflow runs on.
  return startScheduledFleetRun(client, input, info.taskQueue);
}
