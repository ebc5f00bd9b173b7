/**
 * Runbooks of no-op steps, for the orchestration benchmark (bench/orchestration.ts): `noopSteps` goes through
 * the engine (run record, search attributes, step events) as every runbook does; `bareSteps` calls the same
 * activity with nothing around it, the baseline of what Temporal itself costs per step; `noopActions` makes
 * each no-op a state-changing step, unattended, so each also asks the target guard for the lease and gives it
 * back (what the lease costs a step).
 */
import { proxyActivities } from '@temporalio/workflow';
import { defineRunbook } from '../../src/workflows/engine/define.js';
import type * as noopActivities from '../../bench/orchestration-activities.js';
import { noopActionName } from '../../bench/noop-action-names.js';

const noop = proxyActivities<typeof noopActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 1 },
});

export const noopSteps = defineRunbook({ unregistered: 'noopSteps' }, async (run) => {
  const steps = Number(run.params.steps ?? 1);
  for (let i = 0; i < steps; i++) await run.check(`noop-${i}`, () => noop.noop());
  return { verdict: 'healthy', cause: `${steps} no-op steps` };
});

export const noopActions = defineRunbook({ unregistered: 'noopActions' }, async (run) => {
  const steps = Number(run.params.steps ?? 1);
  for (let i = 0; i < steps; i++) {
    await run.act(
      noopActionName(i),
      { reason: 'bench', touches: 'nothing', command: 'true', recheck: () => Promise.resolve(true) },
      () => noop.noop(),
    );
  }
  return { verdict: 'fixed', cause: `${steps} no-op actions` };
});

export async function bareSteps(steps: number): Promise<void> {
  for (let i = 0; i < steps; i++) await noop.noop();
}

export { targetGuard } from '../../src/workflows/guard.js';
