/**
 * Workflows the cluster test's worker processes serve: the engine fixture registered as `queueBacklog` (the
 * real engine: search attributes, an approval through the `decide` Update, the target guard; the CLI, the
 * receiver and the fleet start it by that name), the real `scheduledFleet` and `fleet` that schedules start
 * (and `scheduledStart`, which per-target schedules of earlier versions start), and
 * `clusterSteps`, steps that take a while, for killing a worker or the server in the middle of a run.
 */
import { proxyActivities } from '@temporalio/workflow';
import type * as activities from './cluster-activities.js';

export { queueBacklog, targetGuard } from './cli-workflows.js';
export { fleet } from '../../src/workflows/fleet.js';
export { scheduledFleet } from '../../src/workflows/scheduled-fleet.js';
export { scheduledStart } from '../../src/workflows/scheduled-start.js';

const { slowStep } = proxyActivities<typeof activities>({
  startToCloseTimeout: '2 minutes',
  // A killed worker's step is retried on the other one as soon as its heartbeat is missed.
  heartbeatTimeout: '2s',
  retry: { initialInterval: '200ms', backoffCoefficient: 1, maximumAttempts: 50 },
});

export async function clusterSteps(input: {
  steps: number;
  stepMs: number;
}): Promise<activities.StepRecord[]> {
  const done: activities.StepRecord[] = [];
  for (let step = 1; step <= input.steps; step++) done.push(await slowStep(step, input.stepMs));
  return done;
}
