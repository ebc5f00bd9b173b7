/**
 * Starting runs, the parts both sides share: who started a run, the starter workflow that schedules run
 * (schedules cannot start a runbook under a fixed workflow id, so they start this one, which starts the
 * runbook through src/temporal/start-run.ts like the CLI and the alert receiver do) and what a start returns.
 */
import type { RunbookInput } from './types.js';

export type RunTrigger = NonNullable<RunbookInput['trigger']>;

/** The run of `runbook` on `target`, however it was started (CLI, alert, schedule, fleet): one at a time. */
export function runWorkflowId(runbook: string, target: string): string {
  return `mrb.${runbook}.${target}`;
}

/** The workflow type a schedule starts. A worker workflow, not a runbook: not in src/shared/runbooks.ts. */
export const SCHEDULED_START_WORKFLOW = 'scheduledStart';

export interface ScheduledStartInput {
  runbook: string;
  target: string;
  /** The config's schedule name (the trigger's ref). */
  schedule: string;
}

export interface StartRunbookResult {
  /** `started`: a new run; `already-running`: the run of this (runbook, target) that was going on. */
  outcome: 'started' | 'already-running';
  workflowId: string;
  runId: string;
  runbook: string;
  target: string;
  taskQueue: string;
  /** Who or what started the run that is going on (this start, or the earlier one), for people. */
  startedBy: string;
  /** When that run started (ISO 8601). */
  startedAt: string;
  /** One line saying what happened. */
  message: string;
}
