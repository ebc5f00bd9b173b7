/**
 * Nightly (or any cron) runs per target as Temporal Schedules. `ensureSchedules` creates what is missing,
 * updates what differs and leaves the rest alone, so running it twice changes nothing.
 */
import { createHash } from 'node:crypto';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
} from '@temporalio/client';
import type { RunbookInput } from '../shared/types.js';
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

export function scheduleId(spec: Pick<ScheduleSpec, 'name' | 'target'>): string {
  return `mrb.${spec.name}.${spec.target}`;
}

function wanted(spec: ScheduleSpec) {
  const input: RunbookInput = { target: spec.target, trigger: { kind: 'schedule', ref: spec.name } };
  return {
    spec: { cronExpressions: [spec.cron], timezone: spec.timezone, jitter: `${spec.jitterSeconds}s` },
    action: {
      type: 'startWorkflow' as const,
      workflowType: spec.runbook,
      taskQueue: TASK_QUEUE,
      workflowId: `sched.${spec.runbook}.${spec.target}`,
      args: [input],
      staticSummary: `${spec.runbook} on ${spec.target} (schedule ${spec.name})`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
  };
}

/**
 * The schedule's note carries a hash of what we asked for: equal hash, nothing to do (no update call at all);
 * a different one, we update. Comparing described specs is unreliable (the server rewrites cron strings).
 */
export function specNote(spec: ScheduleSpec): string {
  return `mail-runbooks spec ${createHash('sha256')
    .update(JSON.stringify(wanted(spec)))
    .digest('hex')
    .slice(0, 16)}`;
}

export async function ensureSchedule(client: Client, spec: ScheduleSpec): Promise<EnsureOutcome> {
  const id = scheduleId(spec);
  const desired = wanted(spec);
  const note = specNote(spec);
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
): Promise<Array<{ id: string; outcome: EnsureOutcome }>> {
  const results = [];
  for (const spec of specs)
    results.push({ id: scheduleId(spec), outcome: await ensureSchedule(client, spec) });
  return results;
}

export async function triggerSchedule(client: Client, id: string): Promise<void> {
  try {
    await client.schedule.getHandle(id).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new Error(`no schedule with id ${id}`);
    throw err;
  }
}
