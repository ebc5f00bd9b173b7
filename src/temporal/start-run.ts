/**
 * The one way to start a run, used by the CLI, the alert receiver and the schedules (through the
 * `scheduledStart` workflow). One workflow id per (runbook, target): a runbook already running on a target
 * is found and described, not started a second time, whoever started either run; once that run has ended,
 * the same id starts a new one.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { runMetadata } from '../shared/run-metadata.js';
import { runWorkflowId, type RunTrigger, type StartRunbookResult } from '../shared/start.js';
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

export { runWorkflowId };

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

export async function startRunbook(
  client: Client,
  request: StartRunbookRequest,
): Promise<StartRunbookResult> {
  const { runbook, target, trigger, params } = request;
  if (!RUNBOOK_ID_PART.test(runbook))
    throw new Error(`runbook name "${runbook}" must be letters and digits, starting with a letter`);
  if (!target) throw new Error(`no target to start ${runbook} on`);
  const taskQueue = request.taskQueue ?? TASK_QUEUE;
  const workflowId = runWorkflowId(runbook, target);
  const startedBy = request.startedBy ?? describeTrigger(trigger);
  const input: RunbookInput = { target, trigger, ...(params ? { params } : {}) };
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    try {
      const handle = await client.workflow.start(runbook, {
        taskQueue,
        workflowId,
        args: [input],
        // One run per (runbook, target) at a time; after it has ended, the same id starts a new one.
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        // Read back below when someone else tries to start the same run. No secrets: a user name, an
        // alert fingerprint or a schedule name.
        memo: { trigger, startedBy },
        // What the Web UI shows at a glance (runbook, target, who or what started it); outside text cleaned.
        ...runMetadata({ runbook, target, startedBy, trigger, params }),
      });
      const runId = handle.firstExecutionRunId;
      // The server's start time, so this run's description matches what a later start will say of it.
      const { startTime } = await client.workflow.getHandle(workflowId, runId).describe();
      return {
        outcome: 'started',
        workflowId,
        runId,
        runbook,
        target,
        taskQueue,
        startedBy,
        startedAt: startTime.toISOString(),
        message: `started ${runbook} on ${target} (by ${startedBy}): workflow ${workflowId} run ${runId}`,
      };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    const running = await client.workflow.getHandle(workflowId).describe();
    if (running.status.name !== 'RUNNING') continue; // it ended in the meantime: start a new one
    const runningSince = running.startTime.toISOString();
    const runningStartedBy = startedByFromMemo(running.memo);
    return {
      outcome: 'already-running',
      workflowId,
      runId: running.runId,
      runbook,
      target,
      taskQueue: running.taskQueue,
      startedBy: runningStartedBy,
      startedAt: runningSince,
      message:
        `${runbook} is already running on ${target} (started by ${runningStartedBy} at ${runningSince}): ` +
        `workflow ${workflowId} run ${running.runId}; not starting another`,
    };
  }
  throw new Error(
    `could not start ${runbook} on ${target}: workflow ${workflowId} was running at each of ${MAX_ATTEMPTS} ` +
      'attempts and had ended when described',
  );
}
