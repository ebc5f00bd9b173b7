/** Activities of the no-op runbooks (test/workflows/noop-steps.ts), for bench/orchestration.ts: a step that does nothing. */
import type { StepOutcome, TargetPlan } from '../src/shared/types.js';
import { MAX_NOOP_ACTIONS, noopActionName } from './noop-action-names.js';
import { testApprovalPlan, testLimits } from '../test/helpers/approval-plan.js';

export { requestTargetLease } from '../src/activities/guard.js';

export async function noop(): Promise<StepOutcome> {
  return { ok: true, summary: 'nothing done', evidence: {} };
}

export async function notify(): Promise<void> {}

export async function loadTargetPlan(target?: string): Promise<TargetPlan> {
  return {
    target: target ?? 'bench',
    approval: testApprovalPlan({
      unattended: Array.from({ length: MAX_NOOP_ACTIONS }, (_, i) => noopActionName(i)),
    }),
    limits: testLimits(),
  };
}
