/**
 * The worker: runs every runbook workflow and its activities on the project's task queue.
 * `npm run worker` runs it alone (against TEMPORAL_ADDRESS or the local dev server); `npm start` runs it
 * together with the dev server.
 */
import { CLI_COMMAND } from './shared/cli-command.js';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { NativeConnection } from '@temporalio/worker';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { boundActivities } from './activities/bounds.js';
import * as activities from './activities/index.js';
import { ConfigError, loadConfig, missingConfigMessage, resolveConfigPath } from './config/load.js';
import { RUNBOOK_NAMES } from './shared/runbooks.js';
import { connectWorker, TASK_QUEUE, temporalTarget } from './temporal/connection.js';
import { installWorkerMetrics } from './temporal/metrics.js';
import { preloadedWorkflowModules, workflowCode } from './temporal/workflow-bundle.js';
import { capWorkflowThreadYoungGeneration } from './temporal/workflow-thread-heap.js';
import { versionLine } from './version.js';

/**
 * The workflows entry beside this module: src/workflows/index.ts under tsx, dist/workflows/index.js when built
 * (whose prebuilt bundle the worker processes load: src/temporal/workflow-bundle.ts).
 */
export const WORKFLOWS_PATH = fileURLToPath(
  new URL(`./workflows/index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
);

export async function createWorker(
  connection: NativeConnection,
  namespace: string,
  overrides: Partial<WorkerOptions> = {},
): Promise<Worker> {
  // Before Worker.create starts the workflow thread: V8 sizes an isolate's young generation when it makes it.
  capWorkflowThreadYoungGeneration();
  return Worker.create({
    connection,
    namespace,
    taskQueue: TASK_QUEUE,
    workflowsPath: WORKFLOWS_PATH,
    // When it bundles at start; a prebuilt bundle (overrides.workflowBundle) was made with the same list.
    bundlerOptions: { preloadModules: preloadedWorkflowModules(WORKFLOWS_PATH) },
    // Which version ran each workflow task, in every history (WorkflowTaskCompleted's identity).
    identity: `${process.pid}@${hostname()} mail-runbooks ${versionLine()}`,
    // Every result bounded, also those not made with outcome() (plans, command outcomes).
    activities: boundActivities(activities),
    ...overrides,
  });
}

/** Fails at start, with what to do, when the config the activities will read is missing or invalid. */
async function checkWorkerConfig(): Promise<void> {
  const choice = resolveConfigPath();
  if (!choice.exists) throw new Error(missingConfigMessage(choice));
  try {
    await loadConfig(choice.path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new Error(
      `the config ${choice.path} is not valid; fix it (\`${CLI_COMMAND} config check -c ${choice.path}\` lists every problem):\n${err.message}`,
    );
  }
  console.error(`worker: config ${choice.path} (${choice.reason})`);
}

/** The worker process: `npm run worker`, `mail-runbooks-worker`. */
export async function runWorker(): Promise<void> {
  console.error(`worker: mail-runbooks ${versionLine()}`);
  await checkWorkerConfig();
  // Temporal's worker metrics for Prometheus when MRB_METRICS_ADDRESS (host:port) is set.
  const metricsAddress = process.env.MRB_METRICS_ADDRESS;
  if (metricsAddress && metricsAddress !== 'off') {
    console.error(`worker: metrics at ${installWorkerMetrics(metricsAddress).url}`);
  }
  const target = temporalTarget();
  const connection = await connectWorker(target);
  const code = workflowCode(WORKFLOWS_PATH);
  console.error(code.line);
  const worker = await createWorker(connection, target.namespace, code.options);
  console.error(`worker: runbooks ${RUNBOOK_NAMES.join(', ')}`);
  console.error(
    `worker: polling task queue ${TASK_QUEUE} on ${target.connectionOptions.address ?? 'default address'}`,
  );
  await worker.run(); // Worker installs SIGINT/SIGTERM handlers that shut it down gracefully.
  await connection.close();
}

/** Runs the worker, turning a failure into one line and exit code 1. */
export function runWorkerProcess(): void {
  runWorker().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) runWorkerProcess();
