/**
 * Loads the non-secret settings of a target that the workflow needs: its name, approval policy, wait
 * limits, action limits and how the relay may be reached.
 */
import { expandApprovers } from '../config/approvers.js';
import { isProviderRelay, type Config, type TargetApproval } from '../config/schema.js';
import type { ApprovalPlan, StepApprovalPolicy } from '../shared/approval.js';
import type { TargetPlan } from '../shared/types.js';
import { targetConfig, workerConfig } from './context.js';

/**
 * The target's approval settings as the workflow needs them: approver names with groups expanded, no
 * public keys, tokens or receiver key (they stay on the worker, which checks signatures).
 */
export function approvalPlan(approval: TargetApproval, groups: Config['approverGroups']): ApprovalPlan {
  const expand = (refs: readonly string[]) => expandApprovers(refs, groups);
  const steps = Object.fromEntries(
    Object.entries(approval.steps).map(([step, override]) => {
      const policy: Partial<StepApprovalPolicy> = {};
      if (override.approvers !== undefined) policy.approvers = expand(override.approvers);
      if (override.minApprovals !== undefined) policy.minApprovals = override.minApprovals;
      if (override.fourEyes !== undefined) policy.fourEyes = override.fourEyes;
      if (override.allowUnsigned !== undefined) policy.allowUnsigned = override.allowUnsigned;
      return [step, policy];
    }),
  );
  return {
    approvers: expand(approval.approvers),
    minApprovals: approval.minApprovals,
    fourEyes: approval.fourEyes,
    allowUnsigned: approval.allowUnsigned,
    timeoutSeconds: approval.timeoutSeconds,
    reminderAfterSeconds: approval.reminderAfterSeconds,
    escalateAfterSeconds: approval.escalateAfterSeconds,
    escalateTo: expand(approval.escalateTo),
    proceedOnTimeout: [...approval.proceedOnTimeout],
    unattended: [...approval.unattended],
    steps,
  };
}

export async function loadTargetPlan(target?: string): Promise<TargetPlan> {
  const { config } = await workerConfig();
  const t = await targetConfig(target);
  return {
    target: t.name,
    approval: approvalPlan(t.approval, config.approverGroups),
    waits: {
      drainSeconds: t.thresholds.drainTimeoutSeconds,
      deliverySeconds: t.thresholds.deliveryTimeoutSeconds,
    },
    limits: { ...config.limits },
    relayAccess: isProviderRelay(t.relay) ? 'smtp-only' : 'ssh',
  };
}
