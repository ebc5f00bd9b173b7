/**
 * Runbook branch tests without Docker: the real workflows on the real Temporal dev server, with fake
 * activities (fake-activities.ts). Black-box on purpose: a case knows the workflow name, its input, the
 * activity names, the approval Signals, the `status` query and the report, never the engine's insides.
 *
 * One dev server and one worker (one workflow bundle) for all runbooks: every case runs at the same time,
 * each against its own target (named after the runbook and the case), so the fakes can tell calls apart.
 *
 * MRB_RECORD_FIXTURES=<dir> saves each finished run's history as <dir>/<runbook>/<case>.json, in the format
 * of test/helpers/histories.ts, for replay tests.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, it, type ExpectStatic } from 'vitest';
import { alertResolvedSignal, approveSignal, rejectSignal, statusQuery } from '../../src/shared/messages.js';
import type { RunbookName } from '../../src/shared/runbooks.js';
import type { RunbookReport, RunbookStatus } from '../../src/shared/types.js';
import { preloadedWorkflowModules } from '../../src/temporal/workflow-bundle.js';
import { WORKFLOWS_PATH } from '../../src/worker.js';
import { createTestEnv } from '../helpers/temporal.js';
import { approvalFor, type Gate, type RunbookCase } from './case.js';
import {
  ACTIONS,
  fakeActivities,
  fakePlan,
  type ActivityName,
  type FakeCall,
  type FakeTarget,
} from './fake-activities.js';

const PLAN_STEP = 'load-target-plan ok';
const TASK_QUEUE = 'runbook-branches';
const PENDING_WAIT_MS = 30_000;
// Each query is a round trip through the worker: poll quickly at first, then back off.
const FIRST_POLL_MS = 100;
const MAX_POLL_MS = 1_000;
const RUN_TIMEOUT = '50 seconds';
const ALERT_FINGERPRINT = 'test-alert';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls the status query (bounded) until `step` awaits approval. */
async function waitForPending(handle: WorkflowHandle, step: string): Promise<RunbookStatus> {
  const deadline = Date.now() + PENDING_WAIT_MS;
  let last: RunbookStatus | undefined;
  let lastError: unknown;
  for (let pause = FIRST_POLL_MS; Date.now() < deadline; pause = Math.min(pause * 1.5, MAX_POLL_MS)) {
    try {
      last = await handle.query(statusQuery);
      if (last.pending?.step === step) return last;
      if (last.verdict) break;
    } catch (err) {
      lastError = err; // the first workflow task may not have run yet
    }
    await sleep(pause);
  }
  const seen = last
    ? `pending ${last.pending?.step ?? 'nothing'}, steps ${last.steps.map((s) => s.name).join(', ')}${last.verdict ? `, ended ${last.verdict}: ${last.cause ?? ''}` : ''}`
    : `no status (${String(lastError)})`;
  throw new Error(`step ${step} did not become pending: ${seen}`);
}

async function passGates(handle: WorkflowHandle, gates: readonly Gate[]): Promise<void> {
  for (const gate of gates) {
    // A gate left to time out needs nobody: watching for it could miss its short window on a busy machine.
    if (gate.decision === 'timeout') continue;
    const { pending } = await waitForPending(handle, gate.step);
    const decision = {
      request: pending!.requestId,
      step: gate.step,
      by: 'tester',
      comment: `${gate.decision} in a test`,
    };
    try {
      if (gate.alertResolved) await handle.signal(alertResolvedSignal, { fingerprint: ALERT_FINGERPRINT });
      if (gate.decision === 'approve') await handle.signal(approveSignal, decision);
      if (gate.decision === 'reject') await handle.signal(rejectSignal, decision);
    } catch (err) {
      // A resolved alert may close the run (request withdrawn) before the decision arrives.
      if (!(gate.alertResolved && err instanceof WorkflowNotFoundError)) throw err;
    }
  }
}

/** Saves the run's history for replay tests, when MRB_RECORD_FIXTURES names a folder. */
export async function recordFixture(client: Client, runbook: string, name: string, workflowId: string) {
  const root = process.env.MRB_RECORD_FIXTURES;
  if (!root) return;
  const dir = join(resolve(root), runbook);
  await mkdir(dir, { recursive: true });
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  await writeFile(
    join(dir, `${name}.json`),
    `{"workflowId":${JSON.stringify(workflowId)},"history":${historyToJSON(history)}}\n`,
  );
}

/** Runs one case to its end: its report, or the failure when the workflow failed. */
async function runCase(
  client: Client,
  runbook: RunbookName,
  c: RunbookCase,
  target: string,
): Promise<RunbookReport | WorkflowFailedError> {
  const handle = await client.workflow.start(runbook, {
    taskQueue: TASK_QUEUE,
    workflowId: target,
    // Started as an alert would, so that the alert's resolution reaches the run.
    args: [
      { target, trigger: { kind: 'alert', ref: ALERT_FINGERPRINT }, ...(c.params && { params: c.params }) },
    ],
    // Bounds a run that hangs (a fake shaped wrong fails the workflow task, which Temporal retries).
    workflowExecutionTimeout: RUN_TIMEOUT,
  });
  const result = (handle.result() as Promise<RunbookReport>).catch((err: unknown) => {
    if (err instanceof WorkflowFailedError) return err;
    throw err;
  });
  await passGates(handle, c.gates ?? []);
  const ended = await result;
  await recordFixture(client, runbook, c.name, target);
  return ended;
}

const counts = <K extends string>(calls: readonly FakeCall[], names: readonly K[]): Record<K, number> =>
  Object.fromEntries(names.map((n) => [n, calls.filter((c) => c.activity === n).length])) as Record<
    K,
    number
  >;

function assertRun(
  expect: ExpectStatic,
  c: RunbookCase,
  ended: RunbookReport | WorkflowFailedError,
  calls: readonly FakeCall[],
): void {
  const { actions, calls: callCounts, ...outcome } = c.expect;
  if ('fails' in outcome) {
    expect(ended).toBeInstanceOf(WorkflowFailedError);
    expect((ended as WorkflowFailedError).cause?.message).toMatch(outcome.fails);
  } else {
    if (ended instanceof WorkflowFailedError) throw ended;
    const steps = ended.steps.map((s) => `${s.name} ${s.verdict}`);
    expect({ verdict: ended.verdict, steps }).toEqual({
      verdict: outcome.verdict,
      steps: [PLAN_STEP, ...outcome.steps],
    });
    expect(ended.cause).toMatch(outcome.cause);
  }
  expect(counts(calls, ACTIONS)).toEqual({ ...counts([], ACTIONS), ...actions });
  if (callCounts) expect(counts(calls, Object.keys(callCounts) as ActivityName[])).toEqual(callCounts);
  c.also?.({ report: ended instanceof WorkflowFailedError ? undefined : ended, calls });
}

/** The runbooks' case tables: one dev server and one worker, every case a concurrent test. */
export function describeRunbooks(tables: Partial<Record<RunbookName, readonly RunbookCase[]>>): void {
  const targets = new Map<string, FakeTarget>();
  let env: TestWorkflowEnvironment | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;

  beforeAll(async () => {
    // Every run's worker state changes and expected failures would flood the output at INFO.
    Runtime.install({ logger: new DefaultLogger('WARN') });
    env = await createTestEnv();
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: WORKFLOWS_PATH,
      // As the shipped worker bundles them: every case's run shares the preloaded modules.
      bundlerOptions: { preloadModules: preloadedWorkflowModules(WORKFLOWS_PATH) },
      activities: fakeActivities(targets),
    });
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  for (const [runbook, cases] of Object.entries(tables) as [RunbookName, readonly RunbookCase[]][]) {
    describe(runbook, { concurrent: true }, () => {
      for (const c of cases) {
        it(c.name, { fails: c.knownBug !== undefined }, async ({ expect }) => {
          if (!env) throw new Error('no test environment');
          const name = `${runbook}.${c.name}`;
          const target: FakeTarget = {
            world: c.world ?? {},
            plan: { ...fakePlan(name, approvalFor(c)), ...(c.relayAccess && { relayAccess: c.relayAccess }) },
            calls: [],
          };
          targets.set(name, target);
          assertRun(expect, c, await runCase(env.client, runbook, c, name), target.calls);
        });
      }
    });
  }
}
