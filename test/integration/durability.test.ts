/**
 * Durability: the worker is killed (SIGKILL) while a run waits for approval and again while an activity
 * runs; new workers pick the run up and it completes `fixed`, with each remediation applied exactly once:
 * one relay restart (supervisord's log in the relay container) and one `postqueue -f` (the Docker engine's
 * exec events for the mail server container).
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFault, injectFault } from '../../src/lab/faults.js';
import { CONTAINERS } from '../../src/lab/settings.js';
import { WORKFLOWS_PATH } from '../../src/worker.js';
import { approveSignal, statusQuery } from '../../src/shared/messages.js';
import type { RunbookReport, RunbookStatus } from '../../src/shared/types.js';
import { saveHistories } from '../helpers/histories.js';
import { ensureLab, healAndFlush, inLab, type Lab } from '../helpers/lab.js';
import { stepsOf, waitForApproval } from '../helpers/runbooks.js';
import { createTestEnv } from '../helpers/temporal.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';

let lab: Lab;
let env: TestWorkflowEnvironment;
const workers: WorkerProcess[] = [];
const taskQueue = `durability-${randomUUID()}`;

beforeAll(async () => {
  lab = await ensureLab();
  env = await createTestEnv();
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  for (const name of ['relay-down', 'queue-flood']) await healAndFlush(lab, name).catch(() => undefined);
  if (env) {
    await saveHistories(env.client, 'durability', WORKFLOWS_PATH).catch(() => undefined);
    await env.teardown();
  }
});

async function worker(): Promise<WorkerProcess> {
  const w = await startWorkerProcess({
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: 'default',
    MRB_TASK_QUEUE: taskQueue,
    MRB_CONFIG: lab.up.config,
  });
  workers.push(w);
  return w;
}

async function relayStarts(): Promise<number> {
  const r = await inLab(
    lab,
    'relay',
    ['grep', '-c', "spawned: 'smtp-relay'", '/var/log/supervisor/supervisord.log'],
    {
      allowFail: true,
    },
  );
  return Number(r.stdout.trim() || '0');
}

/** `postqueue -f` runs in the mail server container since `since` (epoch seconds), from the engine's events. */
async function flushExecs(since: number): Promise<number> {
  const stream = await lab.ctx.docker.getEvents({
    since,
    until: Math.ceil(Date.now() / 1000),
    filters: { type: ['container'], event: ['exec_start'], container: [CONTAINERS.mailserver] },
  });
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString();
  return (
    text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { Action?: string })
      // Bare, or as the argv the once wrapper runs (`sh -c <script> mrb-once run ... postqueue -f`).
      .filter(
        (e) =>
          e.Action === 'exec_start: postqueue -f' || / mrb-once run .* postqueue -f$/.test(e.Action ?? ''),
      ).length
  );
}

async function waitForStep(handle: WorkflowHandle, step: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let last: RunbookStatus | undefined;
  while (Date.now() < deadline) {
    last = await handle.query(statusQuery);
    const record = last.steps.find((s) => s.name === step);
    if (record && !record.endedAt) return last;
    if (last.verdict) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`step ${step} never ran; steps:\n${last ? stepsOf(last) : '(none)'}`);
}

describe('durability', () => {
  it('survives a killed worker during an approval wait and during an activity; remediations applied once', async () => {
    await injectFault(lab.ctx, findFault('relay-down'));
    await injectFault(lab.ctx, findFault('queue-flood'), ['1500']);
    const since = Math.floor(Date.now() / 1000) - 1;
    const startsBefore = await relayStarts();

    const first = await worker();
    const handle = await env.client.workflow.start('relayUnresponsive', {
      taskQueue,
      workflowId: `durability-${randomUUID()}`,
      args: [{}],
    });
    const restart = await waitForApproval(handle, 'restart-relay-watchdog', 120_000);

    // 1. Killed while waiting for approval: the decision is recorded by the server, not the worker.
    await first.kill();
    await handle.signal(approveSignal, {
      request: restart.pending!.requestId,
      step: 'restart-relay-watchdog',
      by: 'durability-test',
    });
    await worker();
    const flush = await waitForApproval(handle, 'flush-queue', 120_000);
    await handle.signal(approveSignal, {
      request: flush.pending!.requestId,
      step: 'flush-queue',
      by: 'durability-test',
    });

    // 2. Killed while an activity (the queue drain wait) runs: its heartbeat stops and it resumes elsewhere.
    await waitForStep(handle, 'queue-drains');
    await workers[1]?.kill();
    await worker();

    const report = (await handle.result()) as RunbookReport;
    expect(report.verdict, stepsOf(report)).toBe('fixed');
    expect(await relayStarts()).toBe(startsBefore + 1);
    expect(await flushExecs(since)).toBe(1);

    // The drain activity really was interrupted and retried.
    const history = await handle.fetchHistory();
    const drainAttempts = (history.events ?? []).filter(
      (e) => e.activityTaskStartedEventAttributes && (e.activityTaskStartedEventAttributes.attempt ?? 1) > 1,
    );
    expect(drainAttempts.length).toBeGreaterThan(0);
  }, 400_000);
});
