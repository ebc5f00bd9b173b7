/**
 * The one way to start a run, used by the CLI, the alert receiver and the schedules (through the
 * `scheduledStart` workflow). One workflow id per (runbook, target): a runbook already running on a target
 * is found and described, not started a second time, whoever started either run; once that run has ended,
 * the same id starts a new one.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  FLEET_WORKFLOW,
  fleetWorkflowId,
  type FleetInput,
  type ScheduledFleetInput,
  type ScheduledFleetResult,
} from '../shared/fleet.js';
import { fleetMetadata, runMetadata } from '../shared/run-metadata.js';
import { describeTrigger, runWorkflowId, type RunTrigger, type StartRunbookResult } from '../shared/start.js';
import type { RunbookInput } from '../shared/types.js';
import { TASK_QUEUE } from './connection.js';

export interface StartRunbookRequest {
  runbook: string;
  /** The target's real name (resolve the config's defaultTarget first): it is part of the workflow id. */
  target: string;
  trigger: RunTrigger;
  /** Who or what starts the run, for people (memo, summary, messages); by default said from the trigger. */
  startedBy?: string;
  params?: Record<string, unknown>;
  /** The runbooks' task queue unless given (tests use their own). */
  taskQueue?: string;
}

/** A runbook name has no dot, so `mrb.<runbook>.<target>` stays unambiguous with dotted target names. */
const RUNBOOK_ID_PART = /^[A-Za-z][A-Za-z0-9]*$/;

export { describeTrigger, runWorkflowId };

/**
 * How a run was started, from its memo (set by startRunbook). Runs started otherwise (the Web UI, an older
 * version) have none.
 */
function startedByFromMemo(memo: Record<string, unknown> | undefined): string {
  const startedBy = memo?.startedBy;
  if (typeof startedBy === 'string' && startedBy) return startedBy;
  const trigger = memo?.trigger as Partial<RunTrigger> | undefined;
  if (trigger?.kind === 'alert' || trigger?.kind === 'manual' || trigger?.kind === 'schedule')
    return describeTrigger({ kind: trigger.kind, ref: trigger.ref });
  return 'an unrecorded trigger';
}

/** Start again when the running run ends between "already started" and describing it; this many times. */
const MAX_ATTEMPTS = 3;

interface StartUnlessRunning {
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  args: unknown[];
  trigger: RunTrigger;
  startedBy: string;
  /** What the Web UI shows at a glance. */
  staticSummary: string;
  staticDetails: string;
}

interface StartedOrRunning {
  outcome: 'started' | 'already-running';
  runId: string;
  taskQueue: string;
  /** Who or what started the run going on (this start, or the earlier one). */
  startedBy: string;
  startedAt: string;
}

/**
 * Starts the workflow under its one id, unless a run with that id is going on: then that run is described,
 * not started a second time, whoever started it. Once it has ended, the same id starts a new one.
 */
async function startUnlessRunning(client: Client, start: StartUnlessRunning): Promise<StartedOrRunning> {
  const { workflowId, trigger, startedBy } = start;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    try {
      const handle = await client.workflow.start(start.workflowType, {
        taskQueue: start.taskQueue,
        workflowId,
        args: start.args,
        // One run per id at a time; after it has ended, the same id starts a new one.
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        // Read back below when someone else tries to start the same run. No secrets: a user name, an
        // alert fingerprint or a schedule name.
        memo: { trigger, startedBy },
        staticSummary: start.staticSummary,
        staticDetails: start.staticDetails,
      });
      const runId = handle.firstExecutionRunId;
      // The server's start time, so this run's description matches what a later start will say of it.
      const { startTime } = await client.workflow.getHandle(workflowId, runId).describe();
      return {
        outcome: 'started',
        runId,
        taskQueue: start.taskQueue,
        startedBy,
        startedAt: startTime.toISOString(),
      };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    const running = await client.workflow.getHandle(workflowId).describe();
    if (running.status.name !== 'RUNNING') continue; // it ended in the meantime: start a new one
    return {
      outcome: 'already-running',
      runId: running.runId,
      taskQueue: running.taskQueue,
      startedBy: startedByFromMemo(running.memo),
      startedAt: running.startTime.toISOString(),
    };
  }
  throw new Error(
    `could not start ${start.workflowType}: workflow ${workflowId} was running at each of ${MAX_ATTEMPTS} ` +
      'attempts and had ended when described',
  );
}

export async function startRunbook(
  client: Client,
  request: StartRunbookRequest,
): Promise<StartRunbookResult> {
  const { runbook, target, trigger, params } = request;
  if (!RUNBOOK_ID_PART.test(runbook))
    throw new Error(`runbook name "${runbook}" must be letters and digits, starting with a letter`);
  if (!target) throw new Error(`no target to start ${runbook} on`);
  const workflowId = runWorkflowId(runbook, target);
  const startedBy = request.startedBy ?? describeTrigger(trigger);
  const input: RunbookInput = { target, trigger, ...(params ? { params } : {}) };
  const run = await startUnlessRunning(client, {
    workflowType: runbook,
    workflowId,
    taskQueue: request.taskQueue ?? TASK_QUEUE,
    args: [input],
    trigger,
    startedBy,
    // What the Web UI shows at a glance (runbook, target, who or what started it); outside text cleaned.
    ...runMetadata({ runbook, target, startedBy, trigger, params }),
  });
  const result = { ...run, workflowId, runbook, target };
  return {
    ...result,
    message:
      run.outcome === 'started'
        ? `started ${runbook} on ${target} (by ${startedBy}): workflow ${workflowId} run ${run.runId}`
        : `${runbook} is already running on ${target} (started by ${run.startedBy} at ${run.startedAt}): ` +
          `workflow ${workflowId} run ${run.runId}; not starting another`,
  };
}

/**
 * A schedule's fleet, under the fleet's one id per (runbook, selection): a fleet already going (a schedule's
 * or a person's) is left alone. Each child run carries the schedule as its trigger.
 */
export async function startScheduledFleetRun(
  client: Client,
  input: ScheduledFleetInput,
  taskQueue: string,
): Promise<ScheduledFleetResult> {
  const { runbook, schedule, selection, targets } = input;
  const trigger: RunTrigger = { kind: 'schedule', ref: schedule };
  const startedBy = describeTrigger(trigger);
  const workflowId = fleetWorkflowId(runbook, selection);
  const fleetInput: FleetInput = {
    runbook,
    targets,
    maxConcurrent: input.maxConcurrent,
    maxFailures: input.maxFailures,
    trigger,
  };
  const run = await startUnlessRunning(client, {
    workflowType: FLEET_WORKFLOW,
    workflowId,
    taskQueue,
    args: [fleetInput],
    trigger,
    startedBy,
    ...fleetMetadata({ runbook, selection, targets: targets.length, startedBy }),
  });
  return {
    outcome: run.outcome,
    workflowId,
    runId: run.runId,
    startedBy: run.startedBy,
    message:
      run.outcome === 'started'
        ? `started a ${runbook} fleet on ${targets.length} target(s) (${selection}) for ${startedBy}: workflow ${workflowId} run ${run.runId}`
        : `a ${runbook} fleet on ${selection} is already going (started by ${run.startedBy} at ${run.startedAt}): ` +
          `workflow ${workflowId} run ${run.runId}; not starting another`,
  };
}
