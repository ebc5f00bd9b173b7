import { Worker as Thread } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';
import type * as TemporalWorker from '@temporalio/worker';
import { afterAll, expect, it, vi } from 'vitest';
import {
  capWorkflowThreadYoungGeneration,
  WORKFLOW_THREAD_SEMI_SPACE_MB,
} from '../../src/temporal/workflow-thread-heap.js';

/** A thread that churns short-lived objects, as a busy isolate does, and reports its young generation (MB). */
function busyThreadYoungGeneration(): Promise<number> {
  const code = `
    const { parentPort } = require('node:worker_threads');
    const { getHeapSpaceStatistics } = require('node:v8');
    let batch = [];
    for (let i = 0; i < 2e6; i++) { batch.push({ i, s: 'x' + i }); if (batch.length > 5000) batch = []; }
    parentPort.postMessage(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576);
  `;
  return new Promise((resolve, reject) => {
    const thread = new Thread(code, { eval: true });
    thread.once('message', (mb: number) => {
      resolve(mb);
      void thread.terminate();
    });
    thread.once('error', reject);
  });
}

afterAll(() => setFlagsFromString('--max-semi-space-size=0')); // V8's default again for this test process

it('caps the young generation of threads started after it, such as the workflow thread', async () => {
  const before = await busyThreadYoungGeneration();
  capWorkflowThreadYoungGeneration();
  const after = await busyThreadYoungGeneration();
  expect(before).toBeGreaterThan(2 * WORKFLOW_THREAD_SEMI_SPACE_MB);
  expect(after).toBeLessThanOrEqual(2 * WORKFLOW_THREAD_SEMI_SPACE_MB);
}, 30_000);

it('createWorker caps it before Worker.create starts the workflow thread', async () => {
  vi.resetModules();
  const order: string[] = [];
  vi.doMock('../../src/temporal/workflow-thread-heap.js', () => ({
    capWorkflowThreadYoungGeneration: () => order.push('cap'),
  }));
  vi.doMock('@temporalio/worker', async (importOriginal) => ({
    ...(await importOriginal<typeof TemporalWorker>()),
    Worker: { create: () => (order.push('Worker.create'), Promise.resolve({})) },
  }));
  const { createWorker } = await import('../../src/worker.js');
  await createWorker({} as never, 'default');
  expect(order).toEqual(['cap', 'Worker.create']);
  vi.doUnmock('../../src/temporal/workflow-thread-heap.js');
  vi.doUnmock('@temporalio/worker');
}, 30_000);
