/**
 * Orchestration overhead (issue 14, point 2): what a step costs on a real Temporal dev server (SQLite), the
 * workflow task plus the activity round trip, for a runbook of no-op steps through the engine, against a
 * baseline measured in the same run: the same no-op activity called from a bare workflow (Temporal's own
 * cost). Per-step cost is (time of N+1 steps - time of 1 step) / N, median of BENCH_REPEAT runs. Each is
 * measured on the dev server as `npm start` runs it (eager activity dispatch on: the workflow task's
 * completion hands the activity to the same worker; SQLite in write-ahead-log mode) and, for comparison,
 * with eager dispatch off, and with SQLite's own journal settings (DEFAULT_SQLITE_PRAGMAS says why). On the
 * first, also a runbook of state-changing no-op steps: each asks the target guard for the lease and gives it
 * back, what the lease costs a step.
 *
 *   npm run bench -- orchestration          (BENCH_STEPS=50, BENCH_REPEAT=3)
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import {
  bundleWorkflowCode,
  NativeConnection,
  Runtime,
  Worker,
  type WorkflowBundle,
} from '@temporalio/worker';
import * as activities from './orchestration-activities.js';
import { SILENT, withBenchDevServer } from './dev-server.js';

const STEPS = Math.min(Number(process.env.BENCH_STEPS ?? '50'), 500);
const REPEAT = Math.min(Number(process.env.BENCH_REPEAT ?? '3'), 20);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface PerStep {
  engine: number;
  bare: number;
  /** A state-changing step (the lease asked for and given back around it), when measured. */
  action?: number;
}

async function measure(
  address: string,
  client: Client,
  bundle: WorkflowBundle,
  label: string,
  withActions = false,
): Promise<PerStep> {
  const native = await NativeConnection.connect({ address });
  const taskQueue = `orchestration-${randomUUID()}`;
  const worker = await Worker.create({ connection: native, taskQueue, workflowBundle: bundle, activities });
  try {
    return await worker.runUntil(async () => {
      const time = async (
        workflow: 'noopSteps' | 'noopActions' | 'bareSteps',
        steps: number,
      ): Promise<number> => {
        const t = performance.now();
        await client.workflow.execute(workflow, {
          taskQueue,
          workflowId: `${workflow}-${randomUUID()}`,
          args:
            workflow !== 'bareSteps'
              ? [{ target: 'bench', trigger: { kind: 'manual', ref: 'bench' }, params: { steps } }]
              : [steps],
        });
        return performance.now() - t;
      };
      // Warm-up: the first runs pay for workflow code loading and connections.
      await time('noopSteps', 2);
      await time('bareSteps', 2);
      if (withActions) await time('noopActions', 2);
      const runs = {
        engine1: [] as number[],
        engineN: [] as number[],
        bare1: [] as number[],
        bareN: [] as number[],
        action1: [] as number[],
        actionN: [] as number[],
      };
      for (let r = 0; r < REPEAT; r++) {
        runs.engine1.push(await time('noopSteps', 1));
        runs.engineN.push(await time('noopSteps', STEPS + 1));
        runs.bare1.push(await time('bareSteps', 1));
        runs.bareN.push(await time('bareSteps', STEPS + 1));
        if (withActions) {
          runs.action1.push(await time('noopActions', 1));
          runs.actionN.push(await time('noopActions', STEPS + 1));
        }
      }
      const perStep: PerStep = {
        engine: (median(runs.engineN) - median(runs.engine1)) / STEPS,
        bare: (median(runs.bareN) - median(runs.bare1)) / STEPS,
        ...(withActions && { action: (median(runs.actionN) - median(runs.action1)) / STEPS }),
      };
      console.log(
        `${label}: engine runbook 1 step ${median(runs.engine1).toFixed(0)} ms, ${STEPS + 1} steps ${median(runs.engineN).toFixed(0)} ms; ` +
          `bare workflow 1 step ${median(runs.bare1).toFixed(0)} ms, ${STEPS + 1} steps ${median(runs.bareN).toFixed(0)} ms; ` +
          `per step ${perStep.engine.toFixed(1)} ms vs ${perStep.bare.toFixed(1)} ms bare` +
          (perStep.action === undefined
            ? ''
            : `; state-changing no-op steps (lease asked for and given back) 1 step ${median(runs.action1).toFixed(0)} ms, ` +
              `${STEPS + 1} steps ${median(runs.actionN).toFixed(0)} ms, per step ${perStep.action.toFixed(1)} ms`),
      );
      return perStep;
    });
  } finally {
    await native.close();
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: SILENT });
  const bundle = await bundleWorkflowCode({
    workflowsPath: resolve('test/workflows/noop-steps.ts'),
    logger: SILENT,
  });
  let plain: PerStep | undefined;
  let eager: PerStep | undefined;
  let journal: PerStep | undefined;
  await withBenchDevServer(
    'orchestration-journal',
    async (server, client) => {
      journal = await measure(
        server.address,
        client,
        bundle,
        "SQLite's own journal (rollback, synchronous=FULL)",
      );
    },
    undefined,
    [],
  );
  await withBenchDevServer(
    'orchestration-plain',
    async (server, client) => {
      plain = await measure(server.address, client, bundle, 'eager activity dispatch off');
    },
    { 'system.enableActivityEagerExecution': 'false' },
  );
  await withBenchDevServer('orchestration', async (server, client) => {
    eager = await measure(
      server.address,
      client,
      bundle,
      'dev server as npm start runs it (eager dispatch)',
      true,
    );
  });
  console.log(
    `summary: per step through the engine ${eager!.engine.toFixed(1)} ms (bare workflow ${eager!.bare.toFixed(1)} ms, ratio ${(eager!.engine / eager!.bare).toFixed(2)}; target < 50 ms); ` +
      `with eager dispatch off ${plain!.engine.toFixed(1)} ms (bare ${plain!.bare.toFixed(1)} ms); ` +
      `with SQLite's own journal ${journal!.engine.toFixed(1)} ms (bare ${journal!.bare.toFixed(1)} ms); ` +
      `a state-changing step ${eager!.action!.toFixed(1)} ms (the lease ${(eager!.action! - eager!.engine).toFixed(1)} ms of it); median of ${REPEAT}`,
  );
}

await main();
