/** An approval plan for tests: anyone may decide, unsigned decisions count, one approval is enough. */
import type { ApprovalPlan } from '../../src/shared/approval.js';

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
