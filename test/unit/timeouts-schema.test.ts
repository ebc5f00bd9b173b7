/**
 * The config schema's ranges and the runbooks' timeouts agree: whatever drainTimeoutSeconds and
 * deliveryTimeoutSeconds a valid config holds, the wait activity that polls that long is given longer to
 * run (startToClose), and the workflow takes those limits from the target's plan.
 */
import type * as workflow from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import { describe, expect, it, vi } from 'vitest';
import { targetSchema } from '../../src/config/schema.js';
import { MAX_TAIL_LINES } from '../../src/commands/posix.js';
import { COMMAND_LIMIT_MS, queueListLimitMs } from '../../src/commands/limits.js';
import {
  ACTIVITIES_FOR,
  FIXED_WAIT_SECONDS,
  QUEUE_SUMMARY_BUDGET_MS,
  waitTimeoutSeconds,
} from '../../src/workflows/engine/policies.js';

// The policies module makes its proxies at load; outside a workflow each stands for its options: every
// activity of it reads as the options it would be scheduled with.
vi.mock('@temporalio/workflow', async (importOriginal) => ({
  ...(await importOriginal<typeof workflow>()),
  proxyActivities: (options: ActivityOptions) => new Proxy({}, { get: () => options }),
}));

const thresholds = targetSchema.shape.thresholds.unwrap().shape;
const range = (field: { unwrap(): { minValue: number | null; maxValue: number | null } }) => {
  const { minValue, maxValue } = field.unwrap();
  if (minValue === null || maxValue === null) throw new Error('unbounded threshold');
  return { min: minValue, max: maxValue };
};
const drain = range(thresholds.drainTimeoutSeconds);
const delivery = range(thresholds.deliveryTimeoutSeconds);

describe('config ranges and activity timeouts', () => {
  it.each([
    ['both at their maximum', drain.max, delivery.max],
    ['both at their minimum', drain.min, delivery.min],
    ['drain at its maximum, delivery at its minimum', drain.max, delivery.min],
    ['drain at its minimum, delivery at its maximum', drain.min, delivery.max],
    ['the defaults', 600, 120],
  ])('waits outlast what they poll for: %s', (_what, drainSeconds, deliverySeconds) => {
    const timeout = waitTimeoutSeconds({ drainSeconds, deliverySeconds });
    // waitQueueDrained polls up to drainTimeoutSeconds; waitCanaryDelivered up to the delivery timeout
    // plus at least 10 s for the second leg; the fixed waits up to FIXED_WAIT_SECONDS. Each then still
    // needs its last probe's time.
    expect(timeout).toBeGreaterThanOrEqual(drainSeconds + 60);
    expect(timeout).toBeGreaterThanOrEqual(deliverySeconds + 10 + 60);
    expect(timeout).toBeGreaterThanOrEqual(FIXED_WAIT_SECONDS + 60);
  });

  it('the largest drain timeout the schema allows (a day) is longer than the old fixed 45 minutes', () => {
    expect(drain.max).toBeGreaterThan(45 * 60);
    expect(waitTimeoutSeconds({ drainSeconds: drain.max, deliverySeconds: delivery.max })).toBeGreaterThan(
      drain.max,
    );
  });

  it('logTailLines allows no more lines than the tail command reads', () => {
    expect(range(thresholds.logTailLines).max).toBeLessThanOrEqual(MAX_TAIL_LINES);
  });

  it('the queue summary check outlasts the listing of any queue, and heartbeats so a dead worker shows in 30 s', () => {
    const options = (name: string): ActivityOptions =>
      (ACTIVITIES_FOR.check as unknown as Record<string, ActivityOptions>)[name] as ActivityOptions;
    const summary = options('queueSummary');
    expect(summary.startToCloseTimeout).toBe(QUEUE_SUMMARY_BUDGET_MS);
    for (const queued of [0, 100_000, 1_000_000, 10_000_000])
      expect(QUEUE_SUMMARY_BUDGET_MS).toBeGreaterThan(queueListLimitMs(queued) + COMMAND_LIMIT_MS.queueCount);
    expect(summary.heartbeatTimeout).toBe('30 seconds');
    // Every other check keeps the quick budget.
    expect(options('loadTargetPlan').startToCloseTimeout).toBe('2 minutes');
  });
});
