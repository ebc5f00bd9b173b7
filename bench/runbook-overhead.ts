/**
 * Time outside activities in real runbook runs (issue 14, point 2: < 5 % of a run). Read from each run's
 * history: the run's wall time, less the time its activities took (the union of scheduled → closed, which
 * holds their retries and backoffs, less each first attempt's wait to be picked up), less the time a person
 * took (each approval Signal back to the workflow task that went idle waiting for it) and deliberate
 * timers. What is left is orchestration: workflow tasks, schedule-to-start, the round trips between steps.
 * The baseline is the same run's activity time.
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
  activities: number;
}

const ms = (e: Event): number => {
  const t = e.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
};

/** The length of the union of intervals. */
function unionMs(intervals: [number, number][]): number {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let [start, end] = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (const [a, b] of sorted) {
    if (a > end) {
      if (end > start) total += end - start;
      [start, end] = [a, b];
    } else end = Math.max(end, b);
  }
  if (end > start) total += end - start;
  return total;
}

export function overheadOf(workflowId: string, events: Event[]): Overhead {
  const first = events[0]!;
  const last = events[events.length - 1]!;
  const scheduled = new Map<number, number>(); // scheduled event id → scheduled time
  let queued = 0; // first attempts' schedule-to-start: the server handing the task over, orchestration
  const activity: [number, number][] = [];
  const human: [number, number][] = [];
  const timers: [number, number][] = [];
  const timerStarts = new Map<number, number>();
  let lastIdle = ms(first);
  let activities = 0;
  for (const e of events) {
    const t = ms(e);
    switch (e.eventType) {
      case T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        scheduled.set(Number(e.eventId), t);
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const attrs = e.activityTaskStartedEventAttributes;
        const from = scheduled.get(Number(attrs?.scheduledEventId ?? 0));
        if (from !== undefined && (attrs?.attempt ?? 1) === 1) queued += t - from;
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
        if (from !== undefined) activity.push([from, t]);
        activities++;
        break;
      }
      case T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        lastIdle = t;
        break;
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        if (e.workflowExecutionSignaledEventAttributes?.signalName === approveSignal.name)
          human.push([lastIdle, t]);
        break;
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
  const activityMs = unionMs(activity) - queued;
  const humanMs = unionMs(human);
  const timerMs = unionMs(timers);
  return {
    workflowId,
    type: first.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?',
    totalMs,
    activityMs,
    humanMs,
    timerMs,
    outsideMs: totalMs - unionMs([...activity, ...human, ...timers]) + queued,
    activities,
  };
}

async function historyOf(client: Client, workflowId: string, runId?: string): Promise<Event[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return history.events ?? [];
}

function print(rows: Overhead[]): void {
  const pct = (a: number, b: number) => (b > 0 ? ((100 * a) / b).toFixed(1) : '-');
  console.log(
    'runbook               run s   activities s  person s  timers s  outside s  outside/run  outside/(run-person-timers)  activities',
  );
  for (const r of rows) {
    const machine = r.totalMs - r.humanMs - r.timerMs;
    console.log(
      [
        r.type.padEnd(20),
        (r.totalMs / 1000).toFixed(1).padStart(6),
        (r.activityMs / 1000).toFixed(1).padStart(13),
        (r.humanMs / 1000).toFixed(1).padStart(9),
        (r.timerMs / 1000).toFixed(1).padStart(9),
        (r.outsideMs / 1000).toFixed(2).padStart(10),
        `${pct(r.outsideMs, r.totalMs)} %`.padStart(12),
        `${pct(r.outsideMs, machine)} %`.padStart(28),
        String(r.activities).padStart(11),
      ].join(' '),
    );
  }
  const sum = (f: (r: Overhead) => number) => rows.reduce((a, r) => a + f(r), 0);
  const machine = sum((r) => r.totalMs - r.humanMs - r.timerMs);
  console.log(
    `all ${rows.length} runs: outside activities ${(sum((r) => r.outsideMs) / 1000).toFixed(2)} s of ${(sum((r) => r.totalMs) / 1000).toFixed(1)} s run ` +
      `(${pct(
        sum((r) => r.outsideMs),
        sum((r) => r.totalMs),
      )} %), ${pct(
        sum((r) => r.outsideMs),
        machine,
      )} % of the time no person or timer was awaited; ` +
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
      for (const s of picked) {
        for (const f of s.faults) await injectFault(ctx, findFault(f.name), f.args ?? []);
        try {
          const handle = await client.workflow.start(s.runbook, {
            taskQueue,
            workflowId: `bench-${s.name.replace('/', '-')}-${randomUUID().slice(0, 8)}`,
            args: [s.input],
          });
          await runApproving(handle, s.approve);
          rows.push(overheadOf(s.name, await historyOf(client, handle.workflowId)));
          console.error(`${s.name}: ${(rows.at(-1)!.totalMs / 1000).toFixed(1)} s`);
        } finally {
          for (const f of [...s.faults].reverse()) await healFault(ctx, findFault(f.name));
          await flush(lab);
        }
      }
    });
    await connection.close();
    console.log(
      `real runbooks on the lab, each against its fault, approvals sent at once (dev server ${server.address})`,
    );
    print(rows);
  });
}

const { values } = parseArgs({
  options: { from: { type: 'string' }, query: { type: 'string' } },
});
const main = values.from ? fromServer(values.from, values.query ?? 'ExecutionStatus = "Completed"') : onLab();
main.catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
