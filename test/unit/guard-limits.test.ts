/** The guard's rule for cooldown and budgets (src/shared/guard.ts spentLimit), and the config's limits. */
import { describe, expect, it } from 'vitest';
import { configShapeSchema } from '../../src/config/schema.js';
import { DEFAULT_LIMITS, spentLimit, type RecentAction } from '../../src/shared/guard.js';

const NOW = 10_000_000;
const LIMITS = { cooldownSeconds: 300, actionsPerHour: 3, fleetActionsPerHour: 5, leaseWaitSeconds: 60 };
const at = (target: string, step: string, secondsAgo: number): RecentAction => ({
  target,
  step,
  at: NOW - secondsAgo * 1000,
});

describe('spentLimit', () => {
  it('is undefined with no recent action', () => {
    expect(spentLimit([], 'mx1', 'restart-relay-watchdog', LIMITS, NOW)).toBeUndefined();
  });

  it('names the cooldown of the same action on the same target, with how long ago it ran', () => {
    const actions = [at('mx1', 'restart-relay-watchdog', 40)];
    expect(spentLimit(actions, 'mx1', 'restart-relay-watchdog', LIMITS, NOW)).toBe(
      'cooldown: restart-relay-watchdog ran on mx1 40 s ago; limits.cooldownSeconds is 300',
    );
    // Another action, another target, or after the cooldown: free.
    expect(spentLimit(actions, 'mx1', 'flush-queue', LIMITS, NOW)).toBeUndefined();
    expect(spentLimit(actions, 'mx2', 'restart-relay-watchdog', LIMITS, NOW)).toBeUndefined();
    expect(
      spentLimit([at('mx1', 'restart-relay-watchdog', 300)], 'mx1', 'restart-relay-watchdog', LIMITS, NOW),
    ).toBeUndefined();
  });

  it('counts the actions of the last hour on the target', () => {
    const actions = [at('mx1', 'a', 3000), at('mx1', 'b', 2000), at('mx1', 'c', 1000), at('mx1', 'd', 3600)];
    expect(spentLimit(actions, 'mx1', 'e', LIMITS, NOW)).toBe(
      'budget: 3 actions on mx1 in the last hour; limits.actionsPerHour is 3',
    );
    expect(spentLimit(actions.slice(1), 'mx1', 'e', LIMITS, NOW)).toBeUndefined();
  });

  it('counts the actions of the last hour on all targets for the fleet budget', () => {
    const actions = ['mx1', 'mx2', 'mx3', 'mx4', 'mx5'].map((t) => at(t, 'a', 1000));
    expect(spentLimit(actions, 'mx6', 'a', LIMITS, NOW)).toBe(
      'fleet budget: 5 actions on all targets in the last hour; limits.fleetActionsPerHour is 5',
    );
  });

  it('counts the actions going on now on other targets (held leases) toward the fleet budget', () => {
    const actions = ['mx1', 'mx2', 'mx3'].map((t) => at(t, 'a', 1000));
    expect(spentLimit(actions, 'mx6', 'a', LIMITS, NOW, 1)).toBeUndefined();
    expect(spentLimit(actions, 'mx6', 'a', LIMITS, NOW, 2)).toBe(
      'fleet budget: 5 actions on all targets in the last hour, 2 of them going on now; limits.fleetActionsPerHour is 5',
    );
  });
});

describe('config limits', () => {
  const limits = configShapeSchema.shape.limits;

  it('defaults to the workflows’ defaults', () => {
    expect(limits.parse({})).toEqual(DEFAULT_LIMITS);
  });

  it('refuses values out of range', () => {
    expect(limits.safeParse({ actionsPerHour: 0 }).success).toBe(false);
    expect(limits.safeParse({ leaseWaitSeconds: 5 }).success).toBe(false);
    expect(limits.safeParse({ cooldownSeconds: -1 }).success).toBe(false);
    expect(limits.safeParse({ cooldown: 10 }).success).toBe(false);
  });
});
