/**
 * Safe upgrades (issue 13, point 6; docs/upgrade.md): a run started on version N waits for approval, the
 * version N worker stops, a version N+1 worker whose queueBacklog changed (behind patched(), as
 * test/workflows/upgrade/patched.ts) takes over, and the approval given after the deploy completes the run
 * on the new version. Without patched() (upgrade/unpatched.ts) the same history does not replay: the run
 * would be stuck on a non-determinism error. The real workflows on a real Temporal dev server, with the
 * fake activities of the runbook branch tests.
 */
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveSignal, statusQuery } from '../../src/shared/messages.js';
import type { RunbookReport } from '../../src/shared/types.js';
import { WORKFLOWS_PATH } from '../../src/worker.js';
import { pollUntil } from '../helpers/poll.js';
import { createTestEnv } from '../helpers/temporal.js';
import { approvalFor } from './case.js';
import { queueBacklogCases } from './cases/queue-backlog.js';
import { fakeActivities, fakePlan, type FakeTarget } from './fake-activities.js';
import { AFTER_MARK, AFTER_PATCH, BEFORE_PATCH } from './upgrade/change.js';

const VERSION_N1 = fileURLToPath(new URL('./upgrade/patched.ts', import.meta.url));
const VERSION_N1_UNPATCHED = fileURLToPath(new URL('./upgrade/unpatched.ts', import.meta.url));
const TASK_QUEUE = 'upgrade';
const CASE = 'backlog-flush-approved'; // a backlog: the flush waits for approval
const GATE = 'flush-queue';

const targets = new Map<string, FakeTarget>();
let env: TestWorkflowEnvironment | undefined;
const running: Array<{ worker: Worker; done: Promise<void> }> = [];

async function startWorker(workflowsPath: string, identity: string) {
  if (!env) throw new Error('no test environment');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowsPath,
    activities: fakeActivities(targets),
    identity,
  });
  const entry = { worker, done: worker.run() };
  running.push(entry);
  return entry;
}

function addTarget(name: string, caseName: string): FakeTarget {
  const c = queueBacklogCases.find((x) => x.name === caseName);
  if (!c) throw new Error(`no queueBacklog case ${caseName}`);
  const target: FakeTarget = { world: c.world ?? {}, plan: fakePlan(name, approvalFor(c)), calls: [] };
  targets.set(name, target);
  return target;
}

/** This test's patch ids recorded in a run's history, in order (the runbooks' own patches left out). */
async function patchMarkers(handle: WorkflowHandle): Promise<string[]> {
  const { events } = await handle.fetchHistory();
  return (events ?? [])
    .flatMap((e) => {
      const payload = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0];
      return payload ? [defaultPayloadConverter.fromPayload<{ id: string }>(payload).id] : [];
    })
    .filter((id) => id === BEFORE_PATCH || id === AFTER_PATCH);
}

/** Which worker identities completed the run's workflow tasks, in order (repeats collapsed). */
async function taskIdentities(handle: WorkflowHandle): Promise<string[]> {
  const { events } = await handle.fetchHistory();
  const ids = (events ?? []).flatMap((e) => {
    const identity = e.workflowTaskCompletedEventAttributes?.identity;
    return identity ? [identity] : [];
  });
  return ids.filter((id, i) => id !== ids[i - 1]);
}

const relayLogCalls = (t: FakeTarget) => t.calls.filter((c) => c.activity === 'relayLogs').length;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  env = await createTestEnv();
});

afterAll(async () => {
  for (const { worker, done } of running) {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await done.catch(() => undefined);
  }
  await env?.teardown();
});

describe('an upgrade while a run waits for approval', () => {
  let upgraded: WorkflowHandle | undefined;

  it('completes the run on version N+1 when approved after the deploy', async () => {
    if (!env) throw new Error('no test environment');
    const name = 'upgrade.queueBacklog.waiting';
    const target = addTarget(name, CASE);
    const versionN = await startWorker(WORKFLOWS_PATH, 'version-N');
    const handle = await env.client.workflow.start('queueBacklog', {
      taskQueue: TASK_QUEUE,
      workflowId: name,
      args: [{ target: name }],
      workflowExecutionTimeout: '3 minutes',
    });
    upgraded = handle;
    const pending = await pollUntil(60_000, `${GATE} awaiting approval`, async () => {
      const status = await handle.query(statusQuery);
      return status.pending?.step === GATE ? status.pending : undefined;
    });

    // Drain and deploy: version N stops (its in-flight tasks finish), version N+1 starts.
    versionN.worker.shutdown();
    await versionN.done;
    const callsOnVersionN = target.calls.length;
    expect(relayLogCalls(target)).toBe(0);
    await startWorker(VERSION_N1, 'version-N+1');

    await handle.signal(approveSignal, {
      request: pending.requestId,
      step: GATE,
      by: 'tester',
      comment: 'approved after the upgrade',
    });
    const report = (await handle.result()) as RunbookReport;

    expect(report.verdict).toBe('fixed');
    expect(report.steps.map((s) => `${s.name} ${s.verdict}`)).toContain('flush-queue ok');
    expect(report.cause.endsWith(AFTER_MARK)).toBe(true);
    // The flush ran once, after the approval, on the new version; then the new step after the runbook.
    const later = target.calls.slice(callsOnVersionN).map((c) => c.activity);
    expect(later.filter((a) => a === 'flushQueue')).toHaveLength(1);
    expect(later.at(-1)).toBe('relayLogs');
    expect(relayLogCalls(target)).toBe(1); // not the step before the runbook: the run was past it
    expect(await patchMarkers(handle)).toEqual([AFTER_PATCH]);
    expect(await taskIdentities(handle)).toEqual(['version-N', 'version-N+1']);
  });

  it('a run started on version N+1 takes both new steps', async () => {
    if (!env) throw new Error('no test environment');
    const name = 'upgrade.queueBacklog.new';
    const target = addTarget(name, 'healthy');
    const handle = await env.client.workflow.start('queueBacklog', {
      taskQueue: TASK_QUEUE,
      workflowId: name,
      args: [{ target: name }],
      workflowExecutionTimeout: '3 minutes',
    });
    const report = (await handle.result()) as RunbookReport;
    expect(report.verdict).toBe('healthy');
    expect(relayLogCalls(target)).toBe(2);
    expect(await patchMarkers(handle)).toEqual([BEFORE_PATCH, AFTER_PATCH]);
  });

  it("the upgraded run's history replays on N+1, and not without patched()", async () => {
    expect(upgraded, 'the upgraded run').toBeDefined();
    const history = await upgraded!.fetchHistory();
    await Worker.runReplayHistory(
      { workflowsPath: VERSION_N1, replayName: 'upgrade-patched' },
      history,
      upgraded!.workflowId,
    );
    await expect(
      Worker.runReplayHistory(
        { workflowsPath: VERSION_N1_UNPATCHED, replayName: 'upgrade-unpatched' },
        history,
        upgraded!.workflowId,
      ),
    ).rejects.toBeInstanceOf(DeterminismViolationError);
  }, 120_000);
});
