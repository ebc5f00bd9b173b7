/** Loads the non-secret settings of a target that the workflow needs: its name and approval policy. */
import type { TargetPlan } from '../shared/types.js';
import { targetConfig } from './context.js';

export async function loadTargetPlan(target?: string): Promise<TargetPlan> {
  const t = await targetConfig(target);
  return {
    target: t.name,
    approval: {
      timeoutSeconds: t.approval.timeoutSeconds,
      reminderAfterSeconds: t.approval.reminderAfterSeconds,
      escalateAfterSeconds: 0,
      escalateTo: [],
      proceedOnTimeout: [],
      unattended: [...t.approval.unattended],
      approvers: [],
      minApprovals: 1,
      fourEyes: true,
      allowUnsigned: true,
      steps: {},
    },
  };
}
