/**
 * Time outside activities in real runbook runs (issue 14, point 2: < 5 % of a run). Read from each run's
 * history: the run's wall time, less the time its activities took (the union of scheduled → closed, which
 * holds their retries and backoffs, less each first attempt's wait to be picked up), less the time a person
 * took (each approval Signal back to the workflow task that went idle waiting for it: human time, reported
 * apart) and deliberate timers. What is left is orchestration, split by cause: the target lease (its request
 * activity, which only reaches the guard, the wait for the guard's grant and the round trip of giving it
 * back), activities' schedule-to-start, workflow tasks, and the rest. The baseline is the same run's activity
 * time.
 *
 *   npm run bench -- runbook-overhead                   each remediation runbook on the lab against its fault
 *                                                       (the chaos scenarios' faults and approvals), approvals
 *                                                       sent as soon as asked; needs the lab and its lock
 *   npm run bench -- runbook-overhead --from <address> [--query "<visibility query>"]
 *                                                       closed runs already on a Temporal server
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { findFault, healFault, injectFault } from '../src/lab/faults.js';
import { labContext, labUp } from '../src/lab/lab.js';
import { leaseGrantedSignal, leaseQueuedSignal } from '../src/shared/guard.js';
import { approveSignal } from '../src/shared/messages.js';
import { createWorker } from '../src/worker.js';
import { SCENARIOS } from '../test/chaos/scenarios.js';
import { flush, type Lab } from '../test/helpers/lab.js';
import { runApproving } from './approve.js';
import { withBenchDevServer } from './dev-server.js';

type Event = proto.temporal.api.history.v1.IHistoryEvent;
const T = proto.temporal.api.enums.v1.EventType;

interface Overhead {
  workflowId: string;
  type: string;
  totalMs: number;
  activityMs: number;
  humanMs: number;
  timerMs: number;
  outsideMs: number;
  /** Where the time outside activities went (they add up to outsideMs). */
  outside: {
    /** Asking the target guard for a lease and waiting for its grant, and giving the lease back. */
    leaseMs: number;
    /** First attempts waiting to be picked up (schedule-to-start). */
    queueMs: number;
    /** Workflow tasks: scheduled to completed, the run's own code and its round trip. */
    workflowTaskMs: number;
    otherMs: number;
  };
  /** Workflow tasks' own time, split: the server handing each over (scheduled → started) and the worker
   * running it until the server has its completion (started → completed). */
  workflowTaskSplit: {
    dispatchMs: number;
    workerMs: number;
  };
  activities: number;
  workflowTasks: number;
}

type Interval = [number, number];

const ms = (e: Event): number => {
  const t = e.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
};

/** Sorted, disjoint, non-empty intervals covering the same time. */
function merged(intervals: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const [a, b] of intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0])) {
    const last = out.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

const lengthOf = (intervals: readonly Interval[]): number =>
  merged(intervals).reduce((sum, [a, b]) => sum + b - a, 0);

/** The parts of `from` that `minus` does not cover. */
function without(from: readonly Interval[], minus: readonly Interval[]): Interval[] {
  const cut = merged(minus);
  const out: Interval[] = [];
  for (const [a0, b] of merged(from)) {
    let a = a0;
    for (const [c, d] of cut) {
      if (d <= a || c >= b) continue;
      if (c > a) out.push([a, c]);
      a = Math.max(a, d);
    }
    if (b > a) out.push([a, b]);
  }
  return out;
}

/** Signals the run exchanges with the target guard (src/shared/guard.ts). */
const LEASE_SIGNALS = new Set([leaseGrantedSignal.name, leaseQueuedSignal.name]);
const LEASE_ACTIVITY = 'requestTargetLease';

/**
 * Splits a run's time: its activities (scheduled → closed, less each first attempt's wait to be picked up),
 * a person (the run idle until an approval Signal), deliberate timers, and what is left, outside
 * activities, itself split by cause. The lease activity only reaches the guard: it counts as lease time,
 * outside activities, with the wait for the guard's grant and the round trip of giving the lease back.
 */
export function overheadOf(workflowId: string, events: Event[]): Overhead {
  const first = events[0]!;
  const last = events[events.length - 1]!;
  const scheduled = new Map<number, { at: number; lease: boolean }>(); // by scheduled event id
  const activity: Interval[] = [];
  const queue: Interval[] = []; // first attempts' schedule-to-start: the server handing the task over
  const lease: Interval[] = [];
  const human: Interval[] = [];
  const timers: Interval[] = [];
  const workflowTasks: Interval[] = [];
  const timerStarts = new Map<number, number>();
  const externalSignals = new Map<number, number>(); // initiated event id → time
  let workflowTaskScheduled: number | undefined;
  let workflowTaskStarted: number | undefined;
  const workflowTaskSplit = { dispatchMs: 0, workerMs: 0 };
  let leaseAskedAt: number | undefined;
  let lastIdle = ms(first);
  let activities = 0;
  for (const e of events) {
    const t = ms(e);
    switch (e.eventType) {
      case T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        workflowTaskScheduled = t;
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        if (workflowTaskScheduled !== undefined) workflowTaskSplit.dispatchMs += t - workflowTaskScheduled;
        workflowTaskStarted = t;
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
      case T.EVENT_TYPE_WORKFLOW_TASK_FAILED:
      case T.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
        if (workflowTaskScheduled !== undefined) workflowTasks.push([workflowTaskScheduled, t]);
        if (workflowTaskStarted !== undefined) workflowTaskSplit.workerMs += t - workflowTaskStarted;
        workflowTaskScheduled = undefined;
        workflowTaskStarted = undefined;
        if (e.eventType === T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) lastIdle = t;
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        scheduled.set(Number(e.eventId), {
          at: t,
          lease: e.activityTaskScheduledEventAttributes?.activityType?.name === LEASE_ACTIVITY,
        });
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const attrs = e.activityTaskStartedEventAttributes;
        const from = scheduled.get(Number(attrs?.scheduledEventId ?? 0));
        if (from && !from.lease && (attrs?.attempt ?? 1) === 1) queue.push([from.at, t]);
        break;
      }
      case T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case T.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case T.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
      case T.EVENT_TYPE_ACTIVITY_TASK_CANCELED: {
        const attrs =
          e.activityTaskCompletedEventAttributes ??
          e.activityTaskFailedEventAttributes ??
          e.activityTaskTimedOutEventAttributes ??
          e.activityTaskCanceledEventAttributes;
        // Scheduled → closed: a retried attempt's Started event is written with its last attempt only,
        // and the backoff between attempts is the activity's own deliberate waiting (polls, retries).
        const from = scheduled.get(Number(attrs?.scheduledEventId ?? 0));
        if (from?.lease) {
          leaseAskedAt = from.at;
        } else if (from) {
          activity.push([from.at, t]);
          activities++;
        }
        break;
      }
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: {
        const name = e.workflowExecutionSignaledEventAttributes?.signalName;
        if (name === approveSignal.name) human.push([lastIdle, t]);
        if (name && LEASE_SIGNALS.has(name) && leaseAskedAt !== undefined) {
          lease.push([leaseAskedAt, t]);
          if (name === leaseGrantedSignal.name) leaseAskedAt = undefined;
        }
        break;
      }
      case T.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        externalSignals.set(Number(e.eventId), t);
        break;
      case T.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED:
      case T.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: {
        const attrs =
          e.externalWorkflowExecutionSignaledEventAttributes ??
          e.signalExternalWorkflowExecutionFailedEventAttributes;
        const from = externalSignals.get(Number(attrs?.initiatedEventId ?? 0));
        // The runs signal only the guard: renewals and releases of their leases.
        if (from !== undefined) lease.push([from, t]);
        break;
      }
      case T.EVENT_TYPE_TIMER_STARTED:
        timerStarts.set(Number(e.eventId), t);
        break;
      case T.EVENT_TYPE_TIMER_FIRED: {
        const from = timerStarts.get(Number(e.timerFiredEventAttributes?.startedEventId ?? 0));
        if (from !== undefined) timers.push([from, t]);
        break;
      }
    }
  }
  const totalMs = ms(last) - ms(first);
  const running = without(activity, queue);
  // Each moment counts once, for the first of these that covers it.
  let covered: Interval[] = [];
  const take = (intervals: readonly Interval[]): number => {
    const length = lengthOf(without(intervals, covered));
    covered = merged([...covered, ...intervals]);
    return length;
  };
  const humanMs = take(human);
  const timerMs = take(timers);
  const activityMs = take(running);
  const leaseMs = take(lease);
  const queueMs = take(queue);
  const workflowTaskMs = take(workflowTasks);
  const outsideMs = totalMs - humanMs - timerMs - activityMs;
  return {
    workflowId,
    type: first.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?',
    totalMs,
    activityMs,
    humanMs,
    timerMs,
    outsideMs,
    outside: {
      leaseMs,
      queueMs,
      workflowTaskMs,
      otherMs: outsideMs - leaseMs - queueMs - workflowTaskMs,
    },
    workflowTaskSplit,
    activities,
    workflowTasks: workflowTasks.length,
  };
}

async function historyOf(client: Client, workflowId: string, runId?: string): Promise<Event[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return history.events ?? [];
}

function print(rows: Overhead[]): void {
  const pct = (a: number, b: number) => (b > 0 ? ((100 * a) / b).toFixed(1) : '-');
  const s = (msValue: number, width: number, digits = 2) => (msValue / 1000).toFixed(digits).padStart(width);
  console.log(
    'runbook               run s  activities s  person s  timers s  outside s (lease  queue  wf tasks  other)  outside/run  outside/(run-person-timers)  activities',
  );
  for (const r of rows) {
    const machine = r.totalMs - r.humanMs - r.timerMs;
    console.log(
      [
        r.type.padEnd(20),
        s(r.totalMs, 6, 1),
        s(r.activityMs, 13, 1),
        s(r.humanMs, 9, 1),
        s(r.timerMs, 9, 1),
        s(r.outsideMs, 10),
        ` (${s(r.outside.leaseMs, 5)}`,
        s(r.outside.queueMs, 6),
        s(r.outside.workflowTaskMs, 9),
        `${s(r.outside.otherMs, 6)})`,
        `${pct(r.outsideMs, r.totalMs)} %`.padStart(12),
        `${pct(r.outsideMs, machine)} %`.padStart(28),
        String(r.activities).padStart(11),
      ].join(' '),
    );
  }
  const sum = (f: (r: Overhead) => number) => rows.reduce((a, r) => a + f(r), 0);
  const machine = sum((r) => r.totalMs - r.humanMs - r.timerMs);
  const outside = sum((r) => r.outsideMs);
  const tasks = sum((r) => r.workflowTasks);
  const perTask = (f: (r: Overhead) => number): number => sum(f) / Math.max(tasks, 1);
  console.log(
    `all ${rows.length} runs: outside activities ${(outside / 1000).toFixed(2)} s of ${(sum((r) => r.totalMs) / 1000).toFixed(1)} s run ` +
      `(${pct(
        outside,
        sum((r) => r.totalMs),
      )} %), ${pct(outside, machine)} % of the time no person or timer was awaited; ` +
      `of it lease ${(sum((r) => r.outside.leaseMs) / 1000).toFixed(2)} s, activity queue ${(sum((r) => r.outside.queueMs) / 1000).toFixed(2)} s, ` +
      `workflow tasks ${(sum((r) => r.outside.workflowTaskMs) / 1000).toFixed(2)} s ` +
      `(${tasks} tasks, ${perTask((r) => r.outside.workflowTaskMs).toFixed(0)} ms each outside activities; ` +
      `per task ${perTask((r) => r.workflowTaskSplit.dispatchMs).toFixed(1)} ms handed over, ` +
      `${perTask((r) => r.workflowTaskSplit.workerMs).toFixed(1)} ms run by the worker), ` +
      `other ${(sum((r) => r.outside.otherMs) / 1000).toFixed(2)} s; ` +
      `person ${(sum((r) => r.humanMs) / 1000).toFixed(2)} s and timers ${(sum((r) => r.timerMs) / 1000).toFixed(2)} s apart; ` +
      `baseline, activities: ${(sum((r) => r.activityMs) / 1000).toFixed(1)} s`,
  );
}

async function fromServer(address: string, query: string): Promise<void> {
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const rows: Overhead[] = [];
  for await (const w of client.workflow.list({ query })) {
    rows.push(overheadOf(w.workflowId, await historyOf(client, w.workflowId, w.runId)));
    if (rows.length >= 200) break;
  }
  await connection.close();
  console.log(`${rows.length} closed runs on ${address} matching: ${query}`);
  print(rows);
}

async function onLab(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const ctx = labContext();
  const up = await labUp(ctx);
  process.env.MRB_CONFIG = up.config;
  const lab = { ctx, up } as Lab;
  const picked = [
    'queueBacklog/flood',
    'queueBacklog/relay-credentials',
    'relayUnresponsive',
    'inboundDeferred',
    'queueSurgery/hold',
  ].map((name) => SCENARIOS.find((s) => s.name === name)!);
  await withBenchDevServer('overhead', async (server, client) => {
    const connection = await NativeConnection.connect({ address: server.address });
    const taskQueue = `bench-overhead-${randomUUID()}`;
    const worker = await createWorker(connection, 'default', { taskQueue });
    const rows: Overhead[] = [];
    await worker.runUntil(async () => {
      for (const round of ['warm-up', 'measured'] as const) {
        for (const s of picked) {
          for (const f of s.faults) await injectFault(ctx, findFault(f.name), f.args ?? []);
          try {
            const handle = await client.workflow.start(s.runbook, {
              taskQueue,
              workflowId: `bench-${s.name.replace('/', '-')}-${randomUUID().slice(0, 8)}`,
              args: [s.input],
            });
            await runApproving(handle, s.approve);
            const row = overheadOf(s.name, await historyOf(client, handle.workflowId));
            if (round === 'measured') rows.push(row);
            console.error(
              `${s.name}: ${(row.totalMs / 1000).toFixed(1)} s (${round}${round === 'warm-up' ? ', not counted' : ''})`,
            );
          } finally {
            for (const f of [...s.faults].reverse()) await healFault(ctx, findFault(f.name));
            await flush(lab);
          }
        }
      }
    });
    await connection.close();
    console.log(
      `real runbooks on the lab, each against its fault, approvals sent at once, after a warm-up run of each (dev server ${server.address})`,
    );
    print(rows);
  });
}

const { values } = parseArgs({
  options: { from: { type: 'string' }, query: { type: 'string' } },
});
const main = values.from ? fromServer(values.from, values.query ?? 'ExecutionStatus = "Completed"') : onLab();
// Exit when done: handles left open by the worker's activities kept the process alive for minutes after its
// figures, holding the lab lock others wait for.
main.then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
