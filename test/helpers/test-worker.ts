/**
 * A real Temporal dev server (createTestEnv) with one in-process worker on it, for the tests that run
 * workflows: started together before a file's tests, stopped together after them.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { createTestEnv } from './temporal.js';

export interface TestWorker {
  readonly env: TestWorkflowEnvironment;
  readonly worker: Worker;
  /** Stops the worker (waiting for it to finish), then the server. */
  stop(): Promise<void>;
}

export async function startTestWorker(options: Omit<WorkerOptions, 'connection'>): Promise<TestWorker> {
  const env = await createTestEnv();
  let worker: Worker;
  try {
    worker = await Worker.create({ connection: env.nativeConnection, ...options });
  } catch (err) {
    await env.teardown();
    throw err;
  }
  const running = worker.run();
  return {
    env,
    worker,
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}
