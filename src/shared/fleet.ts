/**
 * A fleet run: one runbook on many targets, as child runs, a few at a time, stopping after too many failures.
 * The contract shared by the fleet workflow (src/workflows/fleet.ts), the CLI and the schedules.
 */
import { defineQuery } from '@temporalio/workflow';
import type { RunTrigger } from './start.js';

/** The workflow type of a fleet run. A worker workflow, not a runbook. */
export const FLEET_WORKFLOW = 'fleet';

export interface FleetInput {
  runbook: string;
  /** The targets, already chosen from the config by whoever starts the fleet (the workflow reads no config). */
  targets: string[];
  /** Child runs going on at once. */
  maxConcurrent: number;
  /** After this many targets end badly (failed, needs-human, or an error), no new child starts. */
  maxFailures: number;
  /** Who or what started the fleet; each child run carries it as its own trigger. */
  trigger: RunTrigger;
  /** Handed to every child run. */
  params?: Record<string, unknown>;
}

export type FleetTargetState = 'waiting' | 'running' | 'done' | 'already-running' | 'not-started';

export interface FleetTarget {
  target: string;
  state: FleetTargetState;
  workflowId: string;
  runId?: string;
  /** The child's verdict when it ended with a report. */
  verdict?: string;
  /** The child's cause, or why it did not run or report. */
  detail?: string;
  /** Whether this target counts as a failure toward maxFailures. */
  failed?: boolean;
}

export interface FleetStatus {
  runbook: string;
  total: number;
  counts: Record<FleetTargetState, number>;
  failures: number;
  /** Why no new child starts any more (too many failures), when that happened. */
  stoppedBecause?: string;
  targets: FleetTarget[];
}

/** What the fleet run returns: its final status, with a verdict over all targets. */
export interface FleetReport extends FleetStatus {
  /** ok: every target ended healthy or fixed; failures: some did not; stopped: maxFailures was reached. */
  verdict: 'ok' | 'failures' | 'stopped';
}

export const fleetStatusQuery = defineQuery<FleetStatus>('fleetStatus');

/** How many children at once and how many failures before stopping, unless the CLI or a schedule says. */
export const FLEET_DEFAULTS = { maxConcurrent: 5, maxFailures: 3 } as const;

/**
 * The workflow type a config schedule starts: the scheduler appends a timestamp to its action's workflow
 * id, so it cannot start the fleet under the fleet's one id; this starter's activity does. A worker
 * workflow, not a runbook.
 */
export const SCHEDULED_FLEET_WORKFLOW = 'scheduledFleet';

export interface ScheduledFleetInput {
  /** The config's schedule name (each child's trigger ref). */
  schedule: string;
  runbook: string;
  /** How the schedule names its targets (`all`, `label=k=v` or a comma list): part of the fleet's id. */
  selection: string;
  /** The targets that selection picked from the config when the schedule was last ensured. */
  targets: string[];
  maxConcurrent: number;
  maxFailures: number;
}

export interface ScheduledFleetResult {
  /** `started`: a new fleet; `already-running`: a fleet of this runbook and selection was going on. */
  outcome: 'started' | 'already-running';
  workflowId: string;
  runId: string;
  /** Who or what started the fleet that is going on (this start, or the earlier one), for people. */
  startedBy: string;
  /** One line saying what happened. */
  message: string;
}

/** Verdicts that count as a target done well. */
export const GOOD_VERDICTS: readonly string[] = ['healthy', 'fixed'];

/** A fleet's workflow id: one fleet per runbook and selection at a time. */
export function fleetWorkflowId(runbook: string, selection: string): string {
  return `mrb.fleet.${runbook}.${selection.replace(/[^A-Za-z0-9_.=-]+/g, '_')}`;
}

/** One line of progress, for the Web UI's current details and the CLI. */
export function fleetProgress(status: FleetStatus): string {
  const c = status.counts;
  const parts = [
    `${c.done} of ${status.total} done`,
    `${c.running} running`,
    `${c.waiting} waiting`,
    ...(c['already-running'] ? [`${c['already-running']} already running`] : []),
    ...(c['not-started'] ? [`${c['not-started']} not started`] : []),
    `${status.failures} failed`,
  ];
  return `${status.runbook} fleet: ${parts.join(', ')}${status.stoppedBecause ? ` (stopped: ${status.stoppedBecause})` : ''}`;
}
