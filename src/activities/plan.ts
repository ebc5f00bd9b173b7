/** Loads the non-secret settings of a target that a run needs (thresholds, approval policy, flavours). */
import type { TargetPlan } from '../workflows/engine/types.js';

export async function loadTargetPlan(target?: string): Promise<TargetPlan> {
  throw new Error(`config not wired yet (target ${target ?? 'default'})`);
}
