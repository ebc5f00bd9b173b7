/** Loads the non-secret settings of a target that the workflow needs: its name and approval policy. */
import type { TargetPlan } from '../shared/types.js';
import { targetConfig } from './context.js';

export async function loadTargetPlan(target?: string): Promise<TargetPlan> {
  const t = await targetConfig(target);
  return {
    target: t.name,
    approval: { ...t.approval, unattended: [...t.approval.unattended] },
  };
}
