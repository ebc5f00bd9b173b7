/**
 * A worker process for the cluster test (test/integration/cluster.test.ts), run with
 * startWorkerProcess(env, timeout, 'test/helpers/cluster-worker.ts'): the workflows of
 * ./cluster-workflows.ts with the real `startScheduledFleet` and `startScheduledRun` activities and ./cluster-activities.ts, on the
 * cluster and task queue its environment names (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, MRB_TASK_QUEUE).
 */
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { startScheduledFleet, startScheduledRun } from '../../src/activities/start-run.js';
import { connectWorker, TASK_QUEUE, temporalTarget } from '../../src/temporal/connection.js';
import * as clusterActivities from './cluster-activities.js';

const target = temporalTarget();
const connection = await connectWorker(target);
const worker = await Worker.create({
  connection,
  namespace: target.namespace,
  taskQueue: TASK_QUEUE,
  workflowsPath: fileURLToPath(new URL('./cluster-workflows.ts', import.meta.url)),
  activities: { ...clusterActivities, startScheduledFleet, startScheduledRun },
  identity: `cluster-test-worker-${process.pid}`,
});
// The line startWorkerProcess waits for.
console.error(`worker: polling task queue ${TASK_QUEUE} on ${target.connectionOptions.address}`);
await worker.run();
await connection.close();
