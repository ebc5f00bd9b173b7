/**
 * Nightly (or any cron) runs per target as Temporal Schedules. `ensureSchedules` creates what is missing,
 * updates what differs and leaves the rest alone, so running it twice changes nothing.
 *
 * A schedule does not start the runbook itself: the scheduler appends a timestamp to its action's workflow
 * id, which would defeat the one id per (runbook, target). It starts the small `scheduledStart` workflow,
 * whose activity starts the runbook through src/temporal/start-run.ts; a run already going on that target
 * (started by anyone) is left alone.
 */
import { createHash } from 'node:crypto';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
} from '@temporalio/client';
import { scheduledStartMetadata } from '../shared/run-metadata.js';
import { SCHEDULED_START_WORKFLOW, type ScheduledStartInput } from '../shared/start.js';
import { TASK_QUEUE } from './connection.js';

export interface ScheduleSpec {
  name: string;
  runbook: string;
  cron: string;
  timezone: string;
  jitterSeconds: number;
  target: string;
}

export type EnsureOutcome = 'created' | 'updated' | 'unchanged';

export interface ScheduleOptions {
  /** The task queue of the starter workflow and so of the runbook; the runbooks' queue unless given. */
  taskQueue?: string;
}

export function scheduleId(spec: Pick<ScheduleSpec, 'name' | 'target'>): string {
  return `mrb.${spec.name}.${spec.target}`;
}

function wanted(spec: ScheduleSpec, taskQueue: string) {
  const input: ScheduledStartInput = { runbook: spec.runbook, target: spec.target, schedule: spec.name };
  return {
    spec: { cronExpressions: [spec.cron], timezone: spec.timezone, jitter: `${spec.jitterSeconds}s` },
    action: {
      type: 'startWorkflow' as const,
      workflowType: SCHEDULED_START_WORKFLOW,
      taskQueue,
      // The scheduler appends the start time; the runbook's own run gets the one id per (runbook, target).
      workflowId: `${SCHEDULED_START_WORKFLOW}.${spec.name}.${spec.target}`,
      args: [input],
      ...scheduledStartMetadata({ runbook: spec.runbook, target: spec.target, schedule: spec.name }),
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
  };
}

/**
 * The schedule's note carries a hash of what we asked for: equal hash, nothing to do (no update call at all);
 * a different one, we update. Comparing described specs is unreliable (the server rewrites cron strings).
 */
export function specNote(spec: ScheduleSpec, options: ScheduleOptions = {}): string {
  return `mail-runbooks spec ${createHash('sha256')
    .update(JSON.stringify(wanted(spec, options.taskQueue ?? TASK_QUEUE)))
    .digest('hex')
    .slice(0, 16)}`;
}

export async function ensureSchedule(
  client: Client,
  spec: ScheduleSpec,
  options: ScheduleOptions = {},
): Promise<EnsureOutcome> {
  const id = scheduleId(spec);
  const desired = wanted(spec, options.taskQueue ?? TASK_QUEUE);
  const note = specNote(spec, options);
  try {
    await client.schedule.create({ scheduleId: id, ...desired, state: { note } });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(id);
  if ((await handle.describe()).state.note === note) return 'unchanged';
  await handle.update((previous) => ({ ...previous, ...desired, state: { ...previous.state, note } }));
  return 'updated';
}

export async function ensureSchedules(
  client: Client,
  specs: ScheduleSpec[],
  options: ScheduleOptions = {},
): Promise<Array<{ id: string; outcome: EnsureOutcome }>> {
  const results = [];
  for (const spec of specs)
    results.push({ id: scheduleId(spec), outcome: await ensureSchedule(client, spec, options) });
  return results;
}

/** The runbook a schedule starts: the starter workflow's input, or (older schedules) the action's type. */
export async function scheduledRunbook(client: Client, id: string): Promise<string | undefined> {
  let action;
  try {
    ({ action } = await client.schedule.getHandle(id).describe());
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined; // deleted since it was listed
    throw err;
  }
  if (action.type !== 'startWorkflow') return undefined;
  if (action.workflowType !== SCHEDULED_START_WORKFLOW) return action.workflowType;
  const input = action.args?.[0] as Partial<ScheduledStartInput> | undefined;
  return input?.runbook;
}

export async function triggerSchedule(client: Client, id: string): Promise<void> {
  try {
    await client.schedule.getHandle(id).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new Error(`no schedule with id ${id}`);
    throw err;
  }
}

/** Deletes one schedule (runs it already started go on); an unknown id is an error naming it. */
export async function deleteSchedule(client: Client, id: string): Promise<void> {
  try {
    await client.schedule.getHandle(id).delete();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new Error(`no schedule with id ${id}`);
    throw err;
  }
}
