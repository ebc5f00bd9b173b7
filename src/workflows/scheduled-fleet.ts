/**
 * What a config schedule starts: Temporal's scheduler appends a timestamp to its action's workflow id, so it
 * cannot start the fleet under the fleet's one id. This workflow asks an activity to start it; a fleet of
 * the same runbook and selection already going is left alone (the result says so).
 */
import { proxyActivities } from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import type { ScheduledFleetInput, ScheduledFleetResult } from '../shared/fleet.js';

const { startScheduledFleet } = proxyActivities<typeof activities>({
  startToCloseTimeout: '1 minute',
  // Starting is idempotent (a retry finds the fleet it started), so retrying a lost answer is safe.
  retry: { initialInterval: '2s', maximumAttempts: 5 },
});

export async function scheduledFleet(input: ScheduledFleetInput): Promise<ScheduledFleetResult> {
  return startScheduledFleet(input);
}
