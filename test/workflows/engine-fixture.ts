/** A tiny runbook that exercises every engine feature, for the engine tests. */
import { proxyActivities } from '@temporalio/workflow';
import { defineRunbook } from '../../src/workflows/engine/define.js';
import type * as fixtureActivities from './engine-fixture-activities.js';

const probe = proxyActivities<typeof fixtureActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '100ms', maximumAttempts: 3, nonRetryableErrorTypes: ['ConfigError'] },
});

// The engine hands each step the runbooks' activity proxy; this fixture calls its own activities instead.
export const engineFixture = defineRunbook({ unregistered: 'engineFixture' }, async (run) => {
  const health = await run.check('look', () => probe.look());
  if (health.ok) return { verdict: 'healthy', cause: 'nothing to do' };
  await run.act(
    'repair',
    {
      reason: 'the probe says broken',
      touches: 'the probe',
      command: 'repair',
      evidence: health.evidence,
      recheck: () => probe.stillBroken(),
    },
    () => probe.repair(),
  );
  const after = await run.check('look-again', () => probe.look());
  return after.ok
    ? { verdict: 'fixed', cause: 'repaired' }
    : { verdict: 'failed', cause: 'still broken after repair' };
});

// The guard the engine's actions take their target's lease from, served by the fixture's workers too.
export { targetGuard } from '../../src/workflows/guard.js';
