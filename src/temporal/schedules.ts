/**
 * Nightly (or any cron) runs as Temporal Schedules: one per config schedule, starting a fleet over its
 * targets (src/workflows/fleet.ts). `ensureSchedules` creates what is missing, updates what differs, leaves
 * the rest alone and deletes the one-schedule-per-target schedules (`mrb.<name>.<target>`) of older
 * versions that a config schedule replaces, so running it twice changes nothing.
 *
 * A schedule does not start the fleet itself: the scheduler appends a timestamp to its action's workflow
 * id, which would defeat the fleet's one id per (runbook, selection). It starts the small `scheduledFleet`
 * workflow, whose activity starts the fleet under that id (src/temporal/start-run.ts); a fleet already
 * going is left alone, and so is a target where the runbook is already running.
 */
import { createHash } from 'node:crypto';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
} from '@temporalio/client';
import { SCHEDULED_FLEET_WORKFLOW, type ScheduledFleetInput } from '../shared/fleet.js';
import { scheduledFleetMetadata } from '../shared/run-metadata.js';
import { SCHEDULED_START_WORKFLOW, type ScheduledStartInput } from '../shared/start.js';
import { TASK_QUEUE } from './connection.js';

export interface ScheduleSpec {
  name: string;
  runbook: string;
  cron: string;
  timezone: string;
  jitterSeconds: number;
  /** How the config names the targets: `all`, `label=<key>=<value>` or a comma list (the fleet's id). */
  selection: string;
  /** The targets the selection picks in the config now. */
  targets: string[];
  maxConcurrent: number;
  maxFailures: number;
}

export type EnsureOutcome = 'created' | 'updated' | 'unchanged' | 'deleted';

export interface EnsureResult {
  id: string;
  outcome: EnsureOutcome;
  /** For a deleted schedule of an older version: the schedule that does its work now. */
  replacedBy?: string;
}

export interface ScheduleOptions {
  /** The task queue of the starter workflow and so of the fleet and its runs; the runbooks' queue unless given. */
  taskQueue?: string;
}

/** One schedule id per config schedule (older versions made `mrb.<name>.<target>`, one per target). */
export function scheduleId(spec: Pick<ScheduleSpec, 'name'>): string {
  return `mrb.${spec.name}`;
}

function wanted(spec: ScheduleSpec, taskQueue: string) {
  const input: ScheduledFleetInput = {
    schedule: spec.name,
    runbook: spec.runbook,
    selection: spec.selection,
    targets: spec.targets,
    maxConcurrent: spec.maxConcurrent,
    maxFailures: spec.maxFailures,
  };
  return {
    spec: { cronExpressions: [spec.cron], timezone: spec.timezone, jitter: `${spec.jitterSeconds}s` },
    action: {
      type: 'startWorkflow' as const,
      workflowType: SCHEDULED_FLEET_WORKFLOW,
      taskQueue,
      // The scheduler appends the start time; the fleet itself gets its one id per (runbook, selection).
      workflowId: `${SCHEDULED_FLEET_WORKFLOW}.${spec.name}`,
      args: [input],
      ...scheduledFleetMetadata({ runbook: spec.runbook, selection: spec.selection, schedule: spec.name }),
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

/** Schedules listed when looking for the ones to replace: a bound, not a page size. */
const MAX_LISTED = 10_000;

/**
 * The one-schedule-per-target schedules of older versions (`mrb.<name>.<target>`, starting the
 * `scheduledStart` workflow) that the fleet schedules of `specs` replace, with the id replacing each.
 */
async function replacedSchedules(
  client: Client,
  specs: ScheduleSpec[],
): Promise<Array<{ id: string; replacedBy: string }>> {
  const current = new Set(specs.map(scheduleId));
  const found = [];
  let listed = 0;
  for await (const s of client.schedule.list()) {
    if (++listed > MAX_LISTED) break;
    const type = s.action?.type === 'startWorkflow' ? s.action.workflowType : undefined;
    if (type !== SCHEDULED_START_WORKFLOW || current.has(s.scheduleId)) continue;
    const spec = specs.find((p) => s.scheduleId.startsWith(`${scheduleId(p)}.`));
    if (spec) found.push({ id: s.scheduleId, replacedBy: scheduleId(spec) });
  }
  return found.sort((a, b) => a.id.localeCompare(b.id)); // the list's order is not stable
}

/**
 * Makes every spec's schedule exist as asked, then deletes the older per-target schedules they replace
 * (after, so no night goes without a schedule). Idempotent: a second call changes nothing.
 */
export async function ensureSchedules(
  client: Client,
  specs: ScheduleSpec[],
  options: ScheduleOptions = {},
): Promise<EnsureResult[]> {
  const results: EnsureResult[] = [];
  for (const spec of specs)
    results.push({ id: scheduleId(spec), outcome: await ensureSchedule(client, spec, options) });
  for (const old of await replacedSchedules(client, specs)) {
    try {
      await client.schedule.getHandle(old.id).delete();
      results.push({ id: old.id, outcome: 'deleted', replacedBy: old.replacedBy });
    } catch (err) {
      // Already gone (an earlier or concurrent ensure; the list lags behind deletions): nothing changed.
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  return results;
}

/** What a schedule starts: the runbook, and on what (a fleet's selection, or an older schedule's target). */
export async function scheduledWork(
  client: Client,
  id: string,
): Promise<{ runbook?: string; on?: string } | undefined> {
  let action;
  try {
    ({ action } = await client.schedule.getHandle(id).describe());
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined; // deleted since it was listed
    throw err;
  }
  if (action.type !== 'startWorkflow') return undefined;
  if (action.workflowType === SCHEDULED_FLEET_WORKFLOW) {
    const input = action.args?.[0] as Partial<ScheduledFleetInput> | undefined;
    return { runbook: input?.runbook, on: input?.selection };
  }
  if (action.workflowType === SCHEDULED_START_WORKFLOW) {
    const input = action.args?.[0] as Partial<ScheduledStartInput> | undefined;
    return { runbook: input?.runbook, on: input?.target };
  }
  return { runbook: action.workflowType };
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
