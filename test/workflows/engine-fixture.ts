/** A tiny runbook that exercises every engine feature, for the engine tests. */
import { proxyActivities } from '@temporalio/workflow';
import { defineRunbook } from '../../src/workflows/engine/runbook.js';
import type * as fixtureActivities from './engine-fixture-activities.js';

const probe = proxyActivities<typeof fixtureActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '100ms', maximumAttempts: 3, nonRetryableErrorTypes: ['ConfigError'] },
});

export const engineFixture = defineRunbook('engineFixture', async (rb) => {
  const health = await rb.check('look', () => probe.look());
  if (health.ok) return { verdict: 'healthy', cause: 'nothing to do' };
  await rb.act(
    'repair',
    { reason: 'the probe says broken', evidence: health.evidence, recheck: () => probe.stillBroken() },
    () => probe.repair(),
  );
  const after = await rb.check('look-again', () => probe.look());
  return after.ok
    ? { verdict: 'fixed', cause: 'repaired' }
    : { verdict: 'failed', cause: 'still broken after repair' };
});
