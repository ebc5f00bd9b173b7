/**
 * The worker's Temporal metrics on Prometheus: installWorkerMetrics before any connection, a worker runs a
 * workflow on a real Temporal server, and /metrics shows it. In its own file: the runtime is installed once
 * per process.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installWorkerMetrics, type WorkerMetrics } from '../../src/temporal/metrics.js';
import { freePort } from '../helpers/ports.js';
import { startTestWorker, type TestWorker } from '../helpers/test-worker.js';
import type { engineFixture } from '../workflows/engine-fixture.js';
import * as fixtureActivities from '../workflows/engine-fixture-activities.js';

const taskQueue = `metrics-${randomUUID()}`;
const fixturePath = fileURLToPath(new URL('../workflows/engine-fixture.ts', import.meta.url));
let metrics: WorkerMetrics;
let temporal: TestWorker;

beforeAll(async () => {
  metrics = installWorkerMetrics(`127.0.0.1:${await freePort()}`, {
    globalTags: { suite: 'worker-metrics' },
  });
  temporal = await startTestWorker({
    taskQueue,
    workflowsPath: fixturePath,
    activities: { ...fixtureActivities, loadTargetPlan: fixtureActivities.makePlan() },
  });
});

afterAll(async () => {
  await temporal?.stop();
});

/** Sum of a metric's samples, optionally only those whose labels contain `having`. */
function sum(text: string, name: string, having = ''): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => line.includes(having))
    .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('worker metrics', () => {
  it('refuses an address without a usable port, without installing anything', () => {
    expect(() => installWorkerMetrics('127.0.0.1')).toThrow(/host:port/);
    expect(() => installWorkerMetrics('127.0.0.1:0')).toThrow(/host:port/);
    expect(() => installWorkerMetrics('0.0.0.0:99999')).toThrow(/host:port/);
  });

  it('serves Temporal worker metrics for Prometheus, counting the workflows the worker completed', async () => {
    fixtureActivities.world.broken = false;
    const report = await temporal.env.client.workflow.execute<typeof engineFixture>('engineFixture', {
      taskQueue,
      workflowId: `metrics-${randomUUID()}`,
      args: [{ target: 'lab' }],
    });
    expect(report.verdict).toBe('healthy');

    // The runtime exports on its own schedule: poll, bounded.
    let text = '';
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const res = await fetch(metrics.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/plain/);
      text = await res.text();
      if (sum(text, 'temporal_workflow_completed', `task_queue="${taskQueue}"`) >= 1) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(sum(text, 'temporal_workflow_completed', `task_queue="${taskQueue}"`)).toBe(1);
    expect(text).toMatch(/^# TYPE temporal_workflow_completed counter$/m);
    expect(text).toMatch(/^temporal_activity_execution_latency_bucket\{/m);
    expect(sum(text, 'temporal_worker_task_slots_available', `task_queue="${taskQueue}"`)).toBeGreaterThan(0);
    expect(text).toContain('suite="worker-metrics"');
  });

  it('is installed once per process: a second install fails loudly', () => {
    expect(() => installWorkerMetrics('127.0.0.1:1')).toThrow(/already been (installed|instantiated)/);
  });
});
