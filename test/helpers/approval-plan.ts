/** An approval plan for tests: anyone may decide, unsigned decisions count, one approval is enough. */
import type { ApprovalPlan } from '../../src/shared/approval.js';
import type { ActionLimits } from '../../src/shared/guard.js';

export function testApprovalPlan(overrides: Partial<ApprovalPlan> = {}): ApprovalPlan {
  return {
    timeoutSeconds: 60,
    reminderAfterSeconds: 0,
    escalateAfterSeconds: 0,
    escalateTo: [],
    proceedOnTimeout: [],
    unattended: [],
    approvers: [],
    minApprovals: 1,
    fourEyes: true,
    allowUnsigned: true,
    steps: {},
    ...overrides,
  };
}

/**
 * Limits no test reaches unless it sets its own: tests of one worker share its target guard, and many act
 * on one target, approved or unattended.
 */
export function testLimits(overrides: Partial<ActionLimits> = {}): ActionLimits {
  return {
    cooldownSeconds: 0,
    actionsPerHour: 1_000,
    fleetActionsPerHour: 10_000,
    leaseWaitSeconds: 60,
    ...overrides,
  };
}
