/**
 * Orchestration overhead (issue 14, point 2): what a step costs on a real Temporal dev server (SQLite), the
 * workflow task plus the activity round trip, for a runbook of no-op steps through the engine, against a
 * baseline measured in the same run: the same no-op activity called from a bare workflow (Temporal's own
 * cost). Per-step cost is (time of N+1 steps - time of 1 step) / N, median of BENCH_REPEAT runs.
 *
 *   npm run bench -- orchestration          (BENCH_STEPS=50, BENCH_REPEAT=3)
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { bundleWorkflowCode, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import * as activities from './orchestration-activities.js';
import { SILENT, withBenchDevServer } from './dev-server.js';

const STEPS = Math.min(Number(process.env.BENCH_STEPS ?? '50'), 500);
const REPEAT = Math.min(Number(process.env.BENCH_REPEAT ?? '3'), 20);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  Runtime.install({ logger: SILENT });
  await withBenchDevServer('orchestration', async (server, client) => {
    const native = await NativeConnection.connect({ address: server.address });
    const taskQueue = `orchestration-${randomUUID()}`;
    const bundle = await bundleWorkflowCode({
      workflowsPath: resolve('test/workflows/noop-steps.ts'),
      logger: SILENT,
    });
    const worker = await Worker.create({
      connection: native,
      taskQueue,
      workflowBundle: bundle,
      activities,
    });
    try {
      await worker.runUntil(async () => {
        const timeEngine = async (steps: number): Promise<number> => {
          const t = performance.now();
          await client.workflow.execute('noopSteps', {
            taskQueue,
            workflowId: `noop-${randomUUID()}`,
            args: [{ target: 'bench', trigger: { kind: 'cli', ref: 'bench' }, params: { steps } }],
          });
          return performance.now() - t;
        };
        const timeBare = async (steps: number): Promise<number> => {
          const t = performance.now();
          await client.workflow.execute('bareSteps', {
            taskQueue,
            workflowId: `bare-${randomUUID()}`,
            args: [steps],
          });
          return performance.now() - t;
        };
        // Warm-up: the first runs pay for workflow code loading and connections.
        await timeEngine(2);
        await timeBare(2);
        const engine1: number[] = [];
        const engineN: number[] = [];
        const bare1: number[] = [];
        const bareN: number[] = [];
        for (let r = 0; r < REPEAT; r++) {
          engine1.push(await timeEngine(1));
          engineN.push(await timeEngine(STEPS + 1));
          bare1.push(await timeBare(1));
          bareN.push(await timeBare(STEPS + 1));
        }
        const enginePerStep = (median(engineN) - median(engine1)) / STEPS;
        const barePerStep = (median(bareN) - median(bare1)) / STEPS;
        console.log(
          `engine runbook: 1 step ${median(engine1).toFixed(0)} ms, ${STEPS + 1} steps ${median(engineN).toFixed(0)} ms`,
        );
        console.log(
          `bare workflow:  1 step ${median(bare1).toFixed(0)} ms, ${STEPS + 1} steps ${median(bareN).toFixed(0)} ms`,
        );
        console.log(
          `summary: per step ${enginePerStep.toFixed(1)} ms through the engine vs ${barePerStep.toFixed(1)} ms bare (ratio ${(enginePerStep / barePerStep).toFixed(2)}; target < 50 ms); median of ${REPEAT}`,
        );
      });
    } finally {
      await native.close();
    }
  });
}

await main();
