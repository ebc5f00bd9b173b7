/**
 * The worker: runs every runbook workflow and its activities on the project's task queue.
 * `npm run worker` runs it alone (against TEMPORAL_ADDRESS or the local dev server); `npm start` runs it
 * together with the dev server.
 */
import { fileURLToPath } from 'node:url';
import type { NativeConnection } from '@temporalio/worker';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { boundActivities } from './activities/bounds.js';
import * as activities from './activities/index.js';
import { RUNBOOK_NAMES } from './shared/runbooks.js';
import { connectWorker, TASK_QUEUE, temporalTarget } from './temporal/connection.js';
import { installWorkerMetrics } from './temporal/metrics.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export async function createWorker(
  connection: NativeConnection,
  namespace: string,
  overrides: Partial<WorkerOptions> = {},
): Promise<Worker> {
  return Worker.create({
    connection,
    namespace,
    taskQueue: TASK_QUEUE,
    workflowsPath: WORKFLOWS_PATH,
    // Every result bounded, also those not made with outcome() (plans, command outcomes).
    activities: boundActivities(activities),
    ...overrides,
  });
}

async function main(): Promise<void> {
  // Temporal's worker metrics for Prometheus when MRB_METRICS_ADDRESS (host:port) is set.
  const metricsAddress = process.env.MRB_METRICS_ADDRESS;
  if (metricsAddress && metricsAddress !== 'off') {
    console.error(`worker: metrics at ${installWorkerMetrics(metricsAddress).url}`);
  }
  const target = temporalTarget();
  const connection = await connectWorker(target);
  const worker = await createWorker(connection, target.namespace);
  console.error(`worker: runbooks ${RUNBOOK_NAMES.join(', ')}`);
  console.error(
    `worker: polling task queue ${TASK_QUEUE} on ${target.connectionOptions.address ?? 'default address'}`,
  );
  await worker.run(); // Worker installs SIGINT/SIGTERM handlers that shut it down gracefully.
  await connection.close();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
