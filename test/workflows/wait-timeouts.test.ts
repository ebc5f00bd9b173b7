/**
 * A wait or verification step's activity gets its timeout from the target's limits, as the plan carries
 * them: with drainTimeoutSeconds two hours, the canary delivery wait may run longer than the old fixed
 * 45 minutes; the queue summary's check is given the time to list a queue of millions, with a heartbeat
 * timeout. The real queueBacklog workflow with fake activities (healthy target: no approval needed).
 */
import { Context } from '@temporalio/activity';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunbookInput, RunbookReport, TargetPlan } from '../../src/shared/types.js';
import { WORKFLOWS_PATH } from '../../src/worker.js';
import { QUEUE_SUMMARY_BUDGET_MS, waitTimeoutSeconds } from '../../src/workflows/engine/policies.js';
import { startTestWorker, type TestWorker } from '../helpers/test-worker.js';
import { fakeActivities, fakePlan, type ActivityName, type FakeTarget } from './fake-activities.js';

type QueueBacklog = (input: RunbookInput) => Promise<RunbookReport>;

const TASK_QUEUE = 'wait-timeouts';
const TARGET = 'wait-timeouts-target';
const LIMITS = { drainSeconds: 7_200, deliverySeconds: 300 };

const targets = new Map<string, FakeTarget>();
/** The startToClose timeout each activity ran with, by activity name. */
const timeouts = new Map<string, number>();
/** The heartbeat timeout each activity ran with (undefined: none). */
const heartbeatTimeouts = new Map<string, number | undefined>();
let worker: TestWorker;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const plan: TargetPlan = { ...fakePlan(TARGET, {}), waits: LIMITS };
  targets.set(TARGET, { world: {}, plan, calls: [] });
  const fakes = fakeActivities(targets) as Record<ActivityName, (...args: unknown[]) => Promise<unknown>>;
  const recording = Object.fromEntries(
    Object.entries(fakes).map(([name, fn]) => [
      name,
      async (...args: unknown[]) => {
        const { info } = Context.current();
        timeouts.set(name, info.startToCloseTimeoutMs);
        heartbeatTimeouts.set(name, info.heartbeatTimeoutMs);
        return fn(...args);
      },
    ]),
  );
  worker = await startTestWorker({
    taskQueue: TASK_QUEUE,
    workflowsPath: WORKFLOWS_PATH,
    activities: recording,
  });
});
afterAll(async () => worker?.stop());

describe('wait timeouts', () => {
  it('come from the plan: the canary delivery wait may run past 45 minutes when the drain limit says so', async () => {
    const report = await worker.env.client.workflow.execute<QueueBacklog>('queueBacklog', {
      taskQueue: TASK_QUEUE,
      workflowId: `wait-timeouts-${Date.now()}`,
      args: [{ target: TARGET }],
      // The server caps activity timeouts at the run's own; the test still ends within seconds.
      workflowExecutionTimeout: '24 hours',
    });
    expect(report.verdict).toBe('healthy');
    const expected = waitTimeoutSeconds(LIMITS) * 1000;
    expect(expected).toBeGreaterThan(LIMITS.drainSeconds * 1000);
    expect(timeouts.get('waitCanaryDelivered')).toBe(expected);
    // Checks keep their own, short timeout, except the queue summary: its listing's limit grows with the
    // queue (a million messages take minutes), and it heartbeats so a dead worker still shows in 30 s.
    expect(timeouts.get('loadTargetPlan')).toBe(2 * 60 * 1000);
    expect(timeouts.get('queueSummary')).toBe(QUEUE_SUMMARY_BUDGET_MS);
    expect(heartbeatTimeouts.get('queueSummary')).toBe(30_000);
  });
});
