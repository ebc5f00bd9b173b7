/**
 * The step engine on a real Temporal server: checks, approval by Signal and by Update (with its validator),
 * rejection, timeout to the default, unattended policy, retries, non-retryable config errors, bounded
 * evidence, the status query, search attributes and the alert-resolved re-check.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  alertResolvedSignal,
  approveSignal,
  decideUpdate,
  rejectSignal,
  statusQuery,
} from '../../src/shared/messages.js';
import type { RunbookReport } from '../../src/shared/types.js';
import { AWAITING_APPROVAL } from '../../src/shared/search-attributes.js';
import { saveHistories } from '../helpers/histories.js';
import { startTestWorker, type TestWorker } from '../helpers/test-worker.js';
import type { engineFixture } from '../workflows/engine-fixture.js';
import * as fixtureActivities from '../workflows/engine-fixture-activities.js';

const { world } = fixtureActivities;
let temporal: TestWorker;
let planOverrides: Parameters<typeof fixtureActivities.makePlan>[0] = {};
const taskQueue = `engine-${randomUUID()}`;
const fixturePath = fileURLToPath(new URL('../workflows/engine-fixture.ts', import.meta.url));

beforeAll(async () => {
  temporal = await startTestWorker({
    taskQueue,
    workflowsPath: fixturePath,
    activities: {
      ...fixtureActivities,
      loadTargetPlan: (target?: string) => fixtureActivities.makePlan(planOverrides)(target),
    },
  });
});

afterAll(async () => {
  await saveHistories(temporal.env.client, 'engine', fixturePath);
  await temporal?.stop();
});

beforeEach(() => {
  Object.assign(world, { broken: true, repairs: 0, lookFailures: 0, notifications: [], configError: false });
  planOverrides = {};
});

function start(target = 'lab') {
  return temporal.env.client.workflow.start<typeof engineFixture>('engineFixture', {
    taskQueue,
    workflowId: `engine-${randomUUID()}`,
    args: [{ target }],
  });
}

async function waitForPending(handle: Awaited<ReturnType<typeof start>>) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const status = await handle.query(statusQuery);
    if (status.pending) return status;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('no approval became pending within 20s');
}

describe('step engine', () => {
  it('ends healthy when the check passes, with no approval asked', async () => {
    world.broken = false;
    const report: RunbookReport = await (await start()).result();
    expect(report.verdict).toBe('healthy');
    expect(report.steps.map((s) => s.name)).toEqual(['load-target-plan', 'look']);
    expect(world.repairs).toBe(0);
  });

  it('waits for approval, records the approver, applies the fix once and reports fixed', async () => {
    const handle = await start();
    const status = await waitForPending(handle);
    expect(status.pending?.step).toBe('repair');
    expect(status.currentStep).toBe('look');
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(AWAITING_APPROVAL)).toBe(true);
    expect(world.notifications.some((n) => n.startsWith('approval-requested: repair'))).toBe(true);
    await handle.signal(approveSignal, { by: 'alice', comment: 'go ahead' });
    const report = await handle.result();
    expect(report.verdict).toBe('fixed');
    expect(world.repairs).toBe(1);
    expect(report.decisions).toMatchObject([
      { step: 'repair', approved: true, by: 'alice', comment: 'go ahead', via: 'signal' },
    ]);
    expect(report.markdown).toContain('approved by alice');
    expect((await handle.describe()).typedSearchAttributes.get(AWAITING_APPROVAL)).toBe(false);
  });

  it('keeps evidence bounded', async () => {
    world.broken = false;
    const report = await (await start()).result();
    expect(JSON.stringify(report.steps[1]?.evidence).length).toBeLessThan(9_000);
    expect(report.steps[1]?.evidence).toMatchObject({ truncated: true });
  });

  it('reject: nothing is changed and the verdict is needs-human', async () => {
    const handle = await start();
    await waitForPending(handle);
    await handle.signal(rejectSignal, { by: 'bob', comment: 'not now' });
    const report = await handle.result();
    expect(report.verdict).toBe('needs-human');
    expect(report.cause).toContain('not approved (bob: not now)');
    expect(world.repairs).toBe(0);
  });

  it('the Update refuses a decision for a step that is not pending, then accepts the right one', async () => {
    const handle = await start();
    await waitForPending(handle);
    await expect(
      handle.executeUpdate(decideUpdate, { args: [{ step: 'other', approved: true, by: 'eve' }] }),
    ).rejects.toThrow(WorkflowUpdateFailedError);
    const accepted = await handle.executeUpdate(decideUpdate, {
      args: [{ step: 'repair', approved: true, by: 'carol' }],
    });
    expect(accepted).toMatchObject({ step: 'repair', by: 'carol', via: 'update' });
    expect((await handle.result()).verdict).toBe('fixed');
  });

  it('a signal naming the wrong step is ignored', async () => {
    const handle = await start();
    await waitForPending(handle);
    await handle.signal(approveSignal, { step: 'not-this-one', by: 'mallory' });
    const status = await handle.query(statusQuery);
    expect(status.pending?.step).toBe('repair');
    expect(status.decisions).toHaveLength(0);
    await handle.signal(rejectSignal, { by: 'bob' });
    expect((await handle.result()).verdict).toBe('needs-human');
  });

  it('no decision: reminder, then the default (abort) at the timeout', async () => {
    planOverrides = { timeoutSeconds: 3, reminderAfterSeconds: 1 };
    const report = await (await start()).result();
    expect(report.verdict).toBe('needs-human');
    expect(report.decisions[0]).toMatchObject({ by: 'timeout', via: 'timeout', approved: false });
    expect(world.notifications.some((n) => n.startsWith('approval-reminder'))).toBe(true);
    expect(world.repairs).toBe(0);
  });

  it('an unattended policy runs the step without approval and records that it did', async () => {
    planOverrides = { unattended: ['repair'] };
    const report = await (await start()).result();
    expect(report.verdict).toBe('fixed');
    expect(report.decisions[0]).toMatchObject({
      step: 'repair',
      by: 'policy',
      via: 'policy',
      approved: true,
    });
  });

  it('alert resolved while waiting: the re-check finds it healthy and nothing is changed', async () => {
    const handle = await start();
    await waitForPending(handle);
    world.broken = false; // it healed by itself
    await handle.signal(alertResolvedSignal, {});
    await handle.signal(approveSignal, { by: 'alice' });
    const report = await handle.result();
    expect(report.verdict).toBe('healthy');
    expect(report.steps.find((s) => s.name === 'repair')?.verdict).toBe('skipped');
    expect(world.repairs).toBe(0);
  });

  it('transient errors are retried; configuration errors fail at once with a clear cause', async () => {
    world.broken = false;
    world.lookFailures = 2;
    expect((await (await start()).result()).verdict).toBe('healthy');
    world.configError = true;
    const report = await (await start()).result();
    expect(report.verdict).toBe('failed');
    expect(report.cause).toContain('relay.ssh.hostKey is missing');
  });
});
