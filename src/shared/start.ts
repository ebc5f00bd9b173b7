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

/** Who or what started a run, for people: "schedule nightly", "alice (manual start)". */
export function describeTrigger(trigger: RunTrigger): string {
  switch (trigger.kind) {
    case 'alert':
      return `alert ${trigger.ref ?? '(no fingerprint)'}`;
    case 'schedule':
      return `schedule ${trigger.ref ?? '(unnamed)'}`;
    case 'manual':
      return trigger.ref ? `${trigger.ref} (manual start)` : 'a manual start';
  }
}

/**
 * The workflow type a schedule of an older version starts (one schedule per target; now a schedule starts a
 * fleet, src/shared/fleet.ts SCHEDULED_FLEET_WORKFLOW). Still served, for schedules not yet replaced and their
 * runs. A worker workflow, not a runbook: not in src/shared/runbooks.ts.
 */
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
