/**
 * Running the real runbooks against the lab: a real Temporal dev server (the pinned CLI), the real worker
 * (real activities, the lab's generated target config), and helpers to wait for an approval and decide it
 * by Signal, as an operator would from the UI or the CLI.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createWorker, WORKFLOWS_PATH } from '../../src/worker.js';
import { approveSignal, rejectSignal, statusQuery } from '../../src/shared/messages.js';
import type { RunbookInput, RunbookReport, RunbookStatus } from '../../src/shared/types.js';
import { saveHistories } from './histories.js';
import { createTestEnv } from './temporal.js';

export interface RunbookHarness {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  worker: Worker;
  start(runbook: string, input?: RunbookInput): Promise<WorkflowHandle>;
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
  teardown(suite: string): Promise<void>;
}

export async function runbookHarness(configPath: string): Promise<RunbookHarness> {
  process.env.MRB_CONFIG = configPath;
  const env = await createTestEnv();
  const taskQueue = `runbooks-${randomUUID()}`;
  let worker: Worker;
  let running: Promise<void> = Promise.resolve();
  const harness: RunbookHarness = {
    env,
    taskQueue,
    get worker() {
      return worker;
    },
    async startWorker() {
      worker = await createWorker(env.nativeConnection, env.namespace ?? 'default', {
        taskQueue,
        shutdownGraceTime: '1s',
      });
      running = worker.run();
    },
    async stopWorker() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
    },
    start(runbook, input = {}) {
      return env.client.workflow.start(runbook, {
        taskQueue,
        workflowId: `${runbook}-${randomUUID()}`,
        args: [input],
      });
    },
    async teardown(suite) {
      await saveHistories(env.client, suite, WORKFLOWS_PATH).catch(() => undefined);
      await harness.stopWorker();
      await env.teardown();
    },
  };
  await harness.startWorker();
  return harness;
}

/** Polls the status query until `step` awaits approval (bounded). */
export async function waitForApproval(
  handle: WorkflowHandle,
  step: string,
  timeoutMs = 240_000,
): Promise<RunbookStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: RunbookStatus | undefined;
  while (Date.now() < deadline) {
    last = await handle.query(statusQuery).catch(() => last);
    if (last?.pending?.step === step) return last;
    if (last?.verdict) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(
    `step ${step} did not await approval; status: ${JSON.stringify(
      {
        current: last?.currentStep,
        pending: last?.pending?.step,
        verdict: last?.verdict,
        cause: last?.cause,
        steps: last?.steps.map((s) => `${s.name}:${s.verdict}:${s.summary}`),
      },
      null,
      1,
    )}`,
  );
}

export async function approve(handle: WorkflowHandle, step: string): Promise<RunbookStatus> {
  const status = await waitForApproval(handle, step);
  await handle.signal(approveSignal, {
    request: status.pending!.requestId,
    step,
    by: 'integration-test',
    comment: `evidence checked for ${step}`,
  });
  return status;
}

export async function reject(handle: WorkflowHandle, step: string): Promise<RunbookStatus> {
  const status = await waitForApproval(handle, step);
  await handle.signal(rejectSignal, {
    request: status.pending!.requestId,
    step,
    by: 'integration-test',
    comment: 'not now',
  });
  return status;
}

export async function report(handle: WorkflowHandle): Promise<RunbookReport> {
  return (await handle.result()) as RunbookReport;
}

/** One line per step, for assertion messages. */
export function stepsOf(r: RunbookStatus): string {
  return r.steps.map((s) => `${s.name}: ${s.verdict}: ${s.summary}`).join('\n');
}
