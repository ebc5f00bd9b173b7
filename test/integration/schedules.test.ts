/**
 * Schedules on a real Temporal server: one per config schedule, starting a fleet; created once, unchanged on
 * a second ensure, updated when changed.
 */
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULED_FLEET_WORKFLOW } from '../../src/shared/fleet.js';
import {
  ensureSchedules,
  scheduledWork,
  scheduleId,
  specNote,
  triggerSchedule,
  type ScheduleSpec,
} from '../../src/temporal/schedules.js';
import { createTestEnv } from '../helpers/temporal.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => env?.teardown());

const nightly: ScheduleSpec = {
  name: 'nightly-e2e',
  runbook: 'endToEndVerification',
  cron: '30 2 * * *',
  timezone: 'Europe/Berlin',
  jitterSeconds: 300,
  selection: 'lab',
  targets: ['lab'],
  maxConcurrent: 5,
  maxFailures: 3,
};
const status: ScheduleSpec = {
  ...nightly,
  name: 'nightly-status',
  runbook: 'statusCheck',
  cron: '0 3 * * *',
};

describe('schedules ensure', () => {
  it('creates, then changes nothing when run again, then updates what differs', async () => {
    const client = env.client;
    expect(await ensureSchedules(client, [nightly, status])).toEqual([
      { id: 'mrb.nightly-e2e', outcome: 'created' },
      { id: 'mrb.nightly-status', outcome: 'created' },
    ]);
    const before = await client.schedule.getHandle(scheduleId(nightly)).describe();
    expect(await ensureSchedules(client, [nightly, status])).toEqual([
      { id: 'mrb.nightly-e2e', outcome: 'unchanged' },
      { id: 'mrb.nightly-status', outcome: 'unchanged' },
    ]);
    const after = await client.schedule.getHandle(scheduleId(nightly)).describe();
    expect(after.raw.conflictToken).toEqual(before.raw.conflictToken);

    expect(after.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(after.spec.timezone).toBe('Europe/Berlin');
    expect(after.state.note).toBe(specNote(nightly));
    // The schedule starts the starter workflow, which starts the fleet under its one id.
    expect(after.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: SCHEDULED_FLEET_WORKFLOW,
      workflowId: 'scheduledFleet.nightly-e2e',
      args: [
        {
          runbook: 'endToEndVerification',
          selection: 'lab',
          targets: ['lab'],
          schedule: 'nightly-e2e',
          maxConcurrent: 5,
          maxFailures: 3,
        },
      ],
    });
    expect(await scheduledWork(client, scheduleId(nightly))).toEqual({
      runbook: 'endToEndVerification',
      on: 'lab',
    });

    const changed = { ...nightly, cron: '45 1 * * *' };
    expect(await ensureSchedules(client, [changed])).toEqual([{ id: 'mrb.nightly-e2e', outcome: 'updated' }]);
    expect((await client.schedule.getHandle(scheduleId(nightly)).describe()).state.note).toBe(
      specNote(changed),
    );
  });

  it('triggers a schedule now, and names a missing one clearly', async () => {
    await triggerSchedule(env.client, scheduleId(status));
    await expect(triggerSchedule(env.client, 'mrb.nope')).rejects.toThrow('no schedule with id mrb.nope');
  });
});
