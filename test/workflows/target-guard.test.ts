/**
 * One actor per target, cooldown and budgets (issue 11, points 3 and 4): the real workflows and the real
 * target guard on a real Temporal dev server, with the fake activities of the runbook branch tests. A
 * restart can be held open, so a test decides how long the first run holds its target.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetInput, FleetReport } from '../../src/shared/fleet.js';
import { guardStateQuery, guardWorkflowId, type ActionLimits } from '../../src/shared/guard.js';
import { rejectSignal, statusQuery } from '../../src/shared/messages.js';
import { AWAITING_TARGET } from '../../src/shared/search-attributes.js';
import { runWorkflowId } from '../../src/shared/start.js';
import type { RunbookReport, RunbookStatus } from '../../src/shared/types.js';
import { WORKFLOWS_PATH } from '../../src/worker.js';
import { pollUntil } from '../helpers/poll.js';
import { startTestWorker, type TestWorker } from '../helpers/test-worker.js';
import { recordFixture } from './harness.js';
import { fakeActivities, fakePlan, type FakeAnswer, type FakeTarget } from './fake-activities.js';

const TASK_QUEUE = 'target-guard';
/** Its own task queue, so its own guard: the fleet budget counts only that test's actions. */
const FLEET_TASK_QUEUE = 'target-guard-fleet';
/** The fleet workflow's test, on a guard of its own too. */
const FLEET_RUN_TASK_QUEUE = 'target-guard-fleet-run';
const WAIT_MS = 30_000;

const RELAY_DOWN = {
  relayWatchdogState: {
    ok: false,
    summary: 'relay program relay is EXITED',
    evidence: { manager: 'supervisor', name: 'relay', state: 'EXITED', detail: 'Exited too quickly' },
  } satisfies FakeAnswer<'relayWatchdogState'>,
  relayPortListening: {
    ok: false,
    summary: 'relay port 2526 is not listening',
    evidence: { port: 2526, listening: false, listeners: [] },
  } satisfies FakeAnswer<'relayPortListening'>,
};
const UNATTENDED = ['restart-relay-watchdog', 'flush-queue'];
const READ_ONLY_STEPS = [
  'load-target-plan',
  'relay-watchdog-alive',
  'relay-port-listening',
  'relay-answers-smtp',
  'relay-logs',
  'outbound-deferrals',
];

const targets = new Map<string, FakeTarget>();
/** Restarts that must wait: by workflow id, released by the test. */
const heldRestarts = new Map<string, { entered: () => void; release: Promise<void> }>();
const releasers: (() => void)[] = [];
/** "<workflowId> start|end" of every restart, in order. */
const restartLog: string[] = [];

function restartHeldBy(workflowId: string): { entered: Promise<void>; release: () => void } {
  let entered!: () => void;
  let release!: () => void;
  const enteredP = new Promise<void>((r) => (entered = r));
  const releaseP = new Promise<void>((r) => (release = r));
  heldRestarts.set(workflowId, { entered, release: releaseP });
  releasers.push(release);
  return { entered: enteredP, release };
}

function brokenRelay(name: string, limits: Partial<ActionLimits>): void {
  targets.set(name, {
    world: RELAY_DOWN,
    plan: fakePlan(name, { unattended: UNATTENDED }, limits),
    calls: [],
  });
}

/** Restarts begun per target (a held one counts from its start). */
const restartsBegun = new Map<string, number>();
const restarts = (target: string): number => restartsBegun.get(target) ?? 0;

let testWorker: TestWorker | undefined;
let fleetWorker: Worker | undefined;
let fleetRunning: Promise<void> | undefined;
let fleetRunWorker: Worker | undefined;
let fleetRunRunning: Promise<void> | undefined;
let client: Client;

beforeAll(async () => {
  const fakes = fakeActivities(targets) as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const activities = {
    ...fakes,
    restartRelayWatchdog: async (target: unknown, onceKey: unknown) => {
      const workflowId = [...heldRestarts.keys()].find((id) => String(onceKey).startsWith(`${id}.`));
      restartLog.push(`${String(onceKey).split('.')[0]} start`);
      restartsBegun.set(String(target), restarts(String(target)) + 1);
      if (workflowId) {
        const held = heldRestarts.get(workflowId)!;
        held.entered();
        await held.release;
      }
      const answer = await fakes.restartRelayWatchdog!(target, onceKey);
      restartLog.push(`${String(onceKey).split('.')[0]} end`);
      return answer;
    },
  };
  testWorker = await startTestWorker({ taskQueue: TASK_QUEUE, workflowsPath: WORKFLOWS_PATH, activities });
  client = testWorker.env.client;
  fleetWorker = await Worker.create({
    connection: testWorker.env.nativeConnection,
    taskQueue: FLEET_TASK_QUEUE,
    workflowsPath: WORKFLOWS_PATH,
    activities,
  });
  fleetRunning = fleetWorker.run();
  fleetRunWorker = await Worker.create({
    connection: testWorker.env.nativeConnection,
    taskQueue: FLEET_RUN_TASK_QUEUE,
    workflowsPath: WORKFLOWS_PATH,
    activities,
  });
  fleetRunRunning = fleetRunWorker.run();
});

afterAll(async () => {
  // The guard's own history so far (grants, waits, a probe that found its holder gone, releases).
  if (testWorker)
    await recordFixture(client, 'targetGuard', 'leases-waits-probes', guardWorkflowId(TASK_QUEUE));
  // A failed test may leave a restart held: the worker's shutdown waits for it.
  for (const release of releasers) release();
  fleetWorker?.shutdown();
  fleetRunWorker?.shutdown();
  await Promise.all([fleetRunning, fleetRunRunning]);
  await testWorker?.stop();
});

function startRun(workflowId: string, target: string, taskQueue = TASK_QUEUE): Promise<WorkflowHandle> {
  return client.workflow.start('relayUnresponsive', {
    taskQueue,
    workflowId,
    args: [{ target, trigger: { kind: 'manual', ref: 'tester' } }],
    workflowExecutionTimeout: '2 minutes',
  });
}

async function statusWhen(
  handle: WorkflowHandle,
  what: string,
  ok: (s: RunbookStatus) => boolean,
): Promise<RunbookStatus> {
  return pollUntil(WAIT_MS, what, async () => {
    const status = await handle.query(statusQuery);
    return ok(status) ? status : undefined;
  });
}

async function awaitingTarget(handle: WorkflowHandle): Promise<boolean | undefined> {
  const { typedSearchAttributes } = await handle.describe();
  return typedSearchAttributes.get(AWAITING_TARGET);
}

describe('one actor per target', () => {
  it('a second run waits, visibly, while the first acts on the target, then acts after it', async () => {
    const target = 'guard-wait';
    brokenRelay(target, { leaseWaitSeconds: 60 });
    const first = restartHeldBy('guard-wait-first');
    const a = await startRun('guard-wait-first', target);
    await first.entered;

    const b = await startRun('guard-wait-second', target);
    const waiting = await statusWhen(
      b,
      'the second run waits for the target',
      (s) => s.lease?.state === 'waiting',
    );
    expect(waiting.lease).toMatchObject({
      step: 'restart-relay-watchdog',
      target,
      holder: {
        workflowId: 'guard-wait-first',
        runbook: 'relayUnresponsive',
        step: 'restart-relay-watchdog',
      },
    });
    // Its read-only steps ran while the first run held the target; its action did not.
    expect(waiting.steps.map((s) => s.name)).toEqual(READ_ONLY_STEPS);
    expect(await awaitingTarget(b)).toBe(true);
    expect(await b.query(statusQuery).then((s) => s.pending)).toBeUndefined();
    expect(restarts(target)).toBe(1);

    first.release();
    const [ra, rb] = (await Promise.all([a.result(), b.result()])) as RunbookReport[];
    expect([ra!.verdict, rb!.verdict]).toEqual(['fixed', 'fixed']);
    expect(restartLog.filter((l) => l.startsWith('guard-wait'))).toEqual([
      'guard-wait-first start',
      'guard-wait-first end',
      'guard-wait-second start',
      'guard-wait-second end',
    ]);
    expect(rb!.lease).toBeUndefined();
    expect(await awaitingTarget(b)).toBe(false);
    await recordFixture(client, 'relayUnresponsive', 'guard-waited-then-acted', 'guard-wait-second');
  });

  it('a second run that waits past leaseWaitSeconds ends needs-human, naming the holder', async () => {
    const target = 'guard-bound';
    brokenRelay(target, { leaseWaitSeconds: 3 });
    const first = restartHeldBy('guard-bound-first');
    const a = await startRun('guard-bound-first', target);
    await first.entered;
    const b = await startRun('guard-bound-second', target);
    const report = (await b.result()) as RunbookReport;
    await recordFixture(client, 'relayUnresponsive', 'guard-wait-bound-needs-human', 'guard-bound-second');
    expect(report.verdict).toBe('needs-human');
    expect(report.cause).toBe(
      `restart-relay-watchdog waited 3 s for ${target}, and relayUnresponsive run guard-bound-first (step restart-relay-watchdog) still acts on it; nothing was changed`,
    );
    expect(restarts(target)).toBe(1);
    first.release();
    expect(((await a.result()) as RunbookReport).verdict).toBe('fixed');
    expect(restarts(target)).toBe(1);
  });

  it('a holder that ends without giving the lease back (terminated) frees the target long before its TTL', async () => {
    const target = 'guard-dead';
    brokenRelay(target, { leaseWaitSeconds: 60 });
    const first = restartHeldBy('guard-dead-first');
    const a = await startRun('guard-dead-first', target);
    await first.entered;
    const b = await startRun('guard-dead-second', target);
    await statusWhen(b, 'the second run waits for the target', (s) => s.lease?.state === 'waiting');
    const terminatedAt = Date.now();
    await a.terminate('killed in a test');
    const report = (await b.result()) as RunbookReport;
    expect(report.verdict).toBe('fixed');
    // The guard probes a holder others wait for every 15 s; the lease's TTL is 10 minutes.
    expect(Date.now() - terminatedAt).toBeLessThan(40_000);
    expect(restartLog.filter((l) => l === 'guard-dead-second start')).toHaveLength(1);
    first.release();
  });
});

describe('cooldown and budgets', () => {
  /** Runs a first, unattended fix, then a second run whose restart must ask a person: its request. */
  async function secondAsks(
    target: string,
    limits: Partial<ActionLimits>,
    taskQueue = TASK_QUEUE,
    firstTarget = target,
  ): Promise<string> {
    if (!targets.has(firstTarget)) brokenRelay(firstTarget, limits);
    brokenRelay(target, limits);
    const a = await startRun(`${firstTarget}-first`, firstTarget, taskQueue);
    expect(((await a.result()) as RunbookReport).verdict).toBe('fixed');
    const b = await startRun(`${target}-second`, target, taskQueue);
    const { pending } = await statusWhen(b, 'the restart awaits a person', (s) => s.pending !== undefined);
    expect(pending!.step).toBe('restart-relay-watchdog');
    expect(pending!.brief.startsWith(pending!.reason.split(', so a person decides.')[0]!)).toBe(true);
    await b.signal(rejectSignal, { request: pending!.requestId, by: 'reviewer' });
    const report = (await b.result()) as RunbookReport;
    expect(report.verdict).toBe('needs-human');
    expect(restarts(target)).toBe(target === firstTarget ? 1 : 0);
    await recordFixture(client, 'relayUnresponsive', `${target}-asked-a-person`, `${target}-second`);
    return pending!.reason;
  }

  it('within the cooldown, an unattended restart asks a person and says why', async () => {
    const reason = await secondAsks('guard-cooldown', { cooldownSeconds: 300 });
    expect(reason).toMatch(
      /^cooldown: restart-relay-watchdog ran on guard-cooldown \d+ s ago; limits\.cooldownSeconds is 300, so a person decides\. /,
    );
  });

  it('past actionsPerHour on the target, an unattended restart asks a person and says why', async () => {
    // The first run restarts and flushes: two actions.
    const reason = await secondAsks('guard-hourly', { cooldownSeconds: 0, actionsPerHour: 2 });
    expect(reason).toMatch(
      /^budget: 2 actions on guard-hourly in the last hour; limits\.actionsPerHour is 2, so a person decides\. /,
    );
  });

  it('past fleetActionsPerHour across targets, an unattended restart on another target asks a person', async () => {
    const limits = { cooldownSeconds: 0, actionsPerHour: 100, fleetActionsPerHour: 2 };
    const reason = await secondAsks('guard-fleet-b', limits, FLEET_TASK_QUEUE, 'guard-fleet-a');
    expect(reason).toMatch(
      /^fleet budget: 2 actions on all targets in the last hour; limits\.fleetActionsPerHour is 2, so a person decides\. /,
    );
  });

  it('within the limits, an unattended restart runs without a person', async () => {
    brokenRelay('guard-free', { cooldownSeconds: 300, actionsPerHour: 2 });
    const run = await startRun('guard-free-first', 'guard-free', TASK_QUEUE);
    const report = (await run.result()) as RunbookReport;
    expect(report.verdict).toBe('fixed');
    expect(report.decisions.map((d) => `${d.step} ${d.by}`)).toEqual([
      'restart-relay-watchdog policy',
      'flush-queue policy',
    ]);
  });

  it('a fleet acting on many targets at once cannot pass fleetActionsPerHour together', async () => {
    // Three broken relays, all at once (a fleet's children, as a nightly schedule starts them), a budget of
    // two actions: the restarts held, two go on together and the third, asked for meanwhile, asks a person.
    const limits = { cooldownSeconds: 0, actionsPerHour: 100, fleetActionsPerHour: 2, leaseWaitSeconds: 60 };
    const names = ['guard-fleetrun-1', 'guard-fleetrun-2', 'guard-fleetrun-3'];
    const holds = names.map((t) => {
      brokenRelay(t, limits);
      return restartHeldBy(runWorkflowId('relayUnresponsive', t));
    });
    const input: FleetInput = {
      runbook: 'relayUnresponsive',
      targets: names,
      maxConcurrent: 3,
      maxFailures: 10,
      trigger: { kind: 'schedule', ref: 'nightly' },
    };
    const fleet = await client.workflow.start<(input: FleetInput) => Promise<FleetReport>>('fleet', {
      taskQueue: FLEET_RUN_TASK_QUEUE,
      workflowId: 'guard-fleetrun',
      args: [input],
      workflowExecutionTimeout: '3 minutes',
    });
    const children = names.map((t) => client.workflow.getHandle(runWorkflowId('relayUnresponsive', t)));
    const pendingOf = async (child: WorkflowHandle) =>
      (await child.query(statusQuery).catch(() => undefined))?.pending;
    const asked = await pollUntil(WAIT_MS, 'two restarts going, the third asking a person', async () => {
      if (names.filter((t) => restarts(t) > 0).length < 2) return undefined;
      for (const child of children) {
        const pending = await pendingOf(child);
        if (pending) return { child, pending };
      }
      return undefined;
    });
    expect(asked.pending.step).toBe('restart-relay-watchdog');
    expect(asked.pending.reason).toMatch(
      /^fleet budget: 2 actions on all targets in the last hour, 2 of them going on now; limits\.fleetActionsPerHour is 2, so a person decides\. /,
    );
    expect(names.filter((t) => restarts(t) > 0)).toHaveLength(2);

    // The person says no to everything that asks; the held restarts finish.
    for (const hold of holds) hold.release();
    const report = await pollUntil(WAIT_MS * 2, 'the fleet ends, every ask rejected', async () => {
      for (const child of children) {
        const pending = await pendingOf(child);
        if (pending) await child.signal(rejectSignal, { request: pending.requestId, by: 'reviewer' });
      }
      const { status } = await fleet.describe();
      return status.name === 'RUNNING' ? undefined : fleet.result();
    });
    expect(report.counts.done).toBe(3);
    const reports = (await Promise.all(children.map((c) => c.result()))) as RunbookReport[];
    const unattended = reports.flatMap((r) => r.decisions.filter((d) => d.by === 'policy'));
    expect(unattended).toHaveLength(2);
    const guard = client.workflow.getHandle(guardWorkflowId(FLEET_RUN_TASK_QUEUE));
    expect((await guard.query(guardStateQuery)).actions).toHaveLength(2);
    // The guard's history on the patched path (guard-budget-counts-held-leases): grants while others hold.
    await recordFixture(
      client,
      'targetGuard',
      'fleet-budget-counts-held-leases',
      guardWorkflowId(FLEET_RUN_TASK_QUEUE),
    );
  });
});
