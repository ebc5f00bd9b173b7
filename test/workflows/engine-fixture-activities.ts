/** In-memory activities for the engine fixture: a "system" that is broken until repaired. */
import { ApplicationFailure } from '@temporalio/activity';
import type { StepOutcome, TargetPlan } from '../../src/shared/types.js';
import { testApprovalPlan, testLimits } from '../helpers/approval-plan.js';

// The engine asks the real target guard for a lease before an action.
export { requestTargetLease } from '../../src/activities/guard.js';

export const world = {
  broken: true,
  repairs: 0,
  lookFailures: 0,
  notifications: [] as string[],
  configError: false,
};

export async function look(): Promise<StepOutcome> {
  if (world.configError) throw ApplicationFailure.nonRetryable('relay.ssh.hostKey is missing', 'ConfigError');
  if (world.lookFailures > 0) {
    world.lookFailures--;
    throw new Error('transient: connection reset');
  }
  return {
    ok: !world.broken,
    summary: world.broken ? 'broken' : 'fine',
    evidence: { big: 'x'.repeat(20_000) },
  };
}

export async function stillBroken(): Promise<boolean> {
  return world.broken;
}

export async function repair(): Promise<StepOutcome> {
  world.repairs++;
  world.broken = false;
  return { ok: true, summary: 'repaired', evidence: {} };
}

export function makePlan(overrides: Partial<TargetPlan['approval']> = {}) {
  return async (target?: string): Promise<TargetPlan> => ({
    target: target ?? 'default-target',
    approval: testApprovalPlan({ timeoutSeconds: 30, reminderAfterSeconds: 10, ...overrides }),
    limits: testLimits(),
  });
}

export async function notify(event: { kind: string; summary: string }): Promise<void> {
  world.notifications.push(`${event.kind}: ${event.summary}`);
}
