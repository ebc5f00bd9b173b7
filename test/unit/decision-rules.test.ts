/** The approval rules as pure functions: decision shape, per-step policy, and why a decision may not count. */
import { describe, expect, it } from 'vitest';
import { stepPolicy } from '../../src/shared/approval.js';
import type { PendingApproval } from '../../src/shared/types.js';
import { decisionProblem, isRefusal, parseDecision } from '../../src/workflows/engine/decision-rules.js';
import { testApprovalPlan } from '../helpers/approval-plan.js';

const plan = testApprovalPlan({
  approvers: ['alice', 'bob'],
  steps: {
    'delete-messages': { minApprovals: 2, approvers: ['alice', 'bob', 'carol'], allowUnsigned: false },
  },
});

function pending(step: string): PendingApproval {
  return {
    requestId: `${step}#1.abcdef01`,
    step,
    reason: 'why',
    brief: 'Touches: x',
    requestedAt: '2026-12-01T00:00:00.000Z',
    deadline: '2026-12-01T01:00:00.000Z',
    policy: stepPolicy(plan, step),
    approvals: [],
  };
}

const ctx = (step: string) => ({ pending: pending(step), settled: false, runId: 'run-1', requester: 'dave' });

describe('per-step policy', () => {
  it('a step override replaces only the fields it names', () => {
    expect(stepPolicy(plan, 'flush-queue')).toEqual({
      approvers: ['alice', 'bob'],
      minApprovals: 1,
      fourEyes: true,
      allowUnsigned: true,
    });
    expect(stepPolicy(plan, 'delete-messages')).toEqual({
      approvers: ['alice', 'bob', 'carol'],
      minApprovals: 2,
      fourEyes: true,
      allowUnsigned: false,
    });
  });

  it('a decision is judged by its step’s policy, and the refusal names the rule', () => {
    const carol = { request: 'delete-messages#1.abcdef01', approved: true, by: 'carol' };
    expect(decisionProblem(carol, 'signed-cli', ctx('delete-messages'))).toBeUndefined();
    expect(decisionProblem(carol, 'unsigned', ctx('delete-messages'))?.rule).toBe('unsigned');
    const carolOnFlush = { ...carol, request: 'flush-queue#1.abcdef01' };
    expect(decisionProblem(carolOnFlush, 'unsigned', ctx('flush-queue'))?.rule).toBe('approvers');
    const dave = { request: 'flush-queue#1.abcdef01', approved: true, by: 'dave' };
    const open = {
      ...ctx('flush-queue'),
      pending: { ...pending('flush-queue'), policy: { ...stepPolicy(plan, 'flush-queue'), approvers: [] } },
    };
    expect(decisionProblem(dave, 'unsigned', open)?.rule).toBe('fourEyes');
  });
});

describe('decision shape', () => {
  it('takes a boolean, never the string "false"', () => {
    const parsed = parseDecision({ request: 'r#1.x', approved: 'false', by: 'mallory' });
    expect(isRefusal(parsed) && parsed.rule).toBe('shape');
    expect(parseDecision({ request: 'r#1.x', by: 'alice' }, false)).toMatchObject({ approved: false });
    const extra = parseDecision({ request: 'r#1.x', approved: true, by: 'alice', admin: true });
    expect(isRefusal(extra) && extra.reason).toMatch(/unknown field/);
  });
});
