/**
 * The config schema's ranges and the runbooks' timeouts agree: whatever drainTimeoutSeconds and
 * deliveryTimeoutSeconds a valid config holds, the wait activity that polls that long is given longer to
 * run (startToClose), and the workflow takes those limits from the target's plan.
 */
import type * as workflow from '@temporalio/workflow';
import { describe, expect, it, vi } from 'vitest';
import { targetSchema } from '../../src/config/schema.js';
import { MAX_TAIL_LINES } from '../../src/commands/posix.js';
import { FIXED_WAIT_SECONDS, waitTimeoutSeconds } from '../../src/workflows/engine/policies.js';

// The policies module makes its proxies at load; outside a workflow they are not needed.
vi.mock('@temporalio/workflow', async (importOriginal) => ({
  ...(await importOriginal<typeof workflow>()),
  proxyActivities: () => ({}),
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
});
