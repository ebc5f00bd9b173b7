/**
 * Where a fleet run's time and CPU went (bench/fleet-nightly.ts): each child's activities and workflow tasks
 * from its history, and the CPU time of the machine's parts over the run (this process, the dev server,
 * each container, Docker's daemons), read from /proc and the cgroup v1 cpuacct hierarchy.
 */
import { readdir, readFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

type Event = proto.temporal.api.history.v1.IHistoryEvent;
const T = proto.temporal.api.enums.v1.EventType;

const ms = (e: Event): number => {
  const t = e.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0;
};

export const median = (xs: number[]): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Per child: each activity's wait to be picked up and run time, and its workflow tasks' total time. */
interface ChildTimes {
  activities: { type: string; queuedMs: number; runMs: number }[];
  workflowTaskMs: number;
  workflowTaskQueuedMs: number;
}

function childTimes(events: Event[]): ChildTimes {
  const scheduled = new Map<number, { type: string; at: number }>();
  const started = new Map<number, number>();
  const out: ChildTimes = { activities: [], workflowTaskMs: 0, workflowTaskQueuedMs: 0 };
  let wftScheduled = 0;
  let wftStarted = 0;
  for (const e of events) {
    const t = ms(e);
    switch (e.eventType) {
      case T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        scheduled.set(Number(e.eventId), {
          type: e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?',
          at: t,
        });
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        started.set(Number(e.activityTaskStartedEventAttributes?.scheduledEventId ?? 0), t);
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const id = Number(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? 0);
        const s = scheduled.get(id);
        const st = started.get(id);
        if (s && st !== undefined) out.activities.push({ type: s.type, queuedMs: st - s.at, runMs: t - st });
        break;
      }
      case T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        wftScheduled = t;
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        wftStarted = t;
        out.workflowTaskQueuedMs += t - wftScheduled;
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        out.workflowTaskMs += t - wftScheduled;
        break;
    }
  }
  void wftStarted;
  return out;
}

/** One line: per activity type the median run time (and wait to start), then the workflow tasks. */
export async function timeBreakdown(
  client: Client,
  children: { workflowId: string; runId?: string }[],
): Promise<string> {
  const times = await Promise.all(
    children.map(async (c) =>
      childTimes((await client.workflow.getHandle(c.workflowId, c.runId).fetchHistory()).events ?? []),
    ),
  );
  const byType = new Map<string, { queued: number[]; run: number[] }>();
  for (const t of times) {
    for (const a of t.activities) {
      const entry = byType.get(a.type) ?? { queued: [], run: [] };
      entry.queued.push(a.queuedMs);
      entry.run.push(a.runMs);
      byType.set(a.type, entry);
    }
  }
  const s = (x: number) => (x / 1000).toFixed(2);
  const parts = [...byType].map(
    ([type, v]) => `${type} ${s(median(v.run))} s (+${s(median(v.queued))} s to start)`,
  );
  parts.push(
    `workflow tasks ${s(median(times.map((t) => t.workflowTaskMs)))} s per child (${s(median(times.map((t) => t.workflowTaskQueuedMs)))} s of it waiting to start)`,
  );
  return `medians per child: ${parts.join(', ')}`;
}

/** CPU time so far, in seconds, of the machine (busy), this process and the other parts named. */
export interface CpuSnapshot {
  at: number;
  machineBusy: number;
  parts: Map<string, number>;
}

const TICK = 100; // USER_HZ on Linux

async function procSeconds(pid: number, withChildren: boolean): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields after the name: state(0) ... utime(11) stime(12) cutime(13) cstime(14)
    const own = Number(f[11]) + Number(f[12]);
    return (withChildren ? own + Number(f[13]) + Number(f[14]) : own) / TICK;
  } catch {
    return 0;
  }
}

/** Docker's daemons: dockerd, containerd and the per-container shims (with the runc runs they reaped). */
async function dockerDaemonPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = (await readFile(`/proc/${entry}/comm`, 'utf8')).trim();
      if (/^(dockerd|containerd|containerd-shim.*|docker-proxy)$/.test(comm)) pids.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return pids;
}

export async function cpuSnapshot(
  devServerPid: number | undefined,
  containers: { group: string; id: string }[],
): Promise<CpuSnapshot> {
  const parts = new Map<string, number>();
  const add = (name: string, seconds: number) => parts.set(name, (parts.get(name) ?? 0) + seconds);
  const usage = process.cpuUsage();
  add('bench process (worker, client)', (usage.user + usage.system) / 1e6);
  if (devServerPid) add('dev server', await procSeconds(devServerPid, true));
  let daemons = 0;
  for (const pid of await dockerDaemonPids()) daemons += await procSeconds(pid, true);
  add('docker daemons', daemons);
  for (const c of containers) {
    try {
      const ns = Number(await readFile(`/sys/fs/cgroup/cpuacct/docker/${c.id}/cpuacct.usage`, 'utf8'));
      add(c.group, ns / 1e9);
    } catch {
      // not cgroup v1 with cgroupfs: that part is not shown
    }
  }
  const cpu = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = cpu.reduce((a, b) => a + b, 0) - cpu[3]! - cpu[4]!;
  return { at: Date.now(), machineBusy: busy / TICK, parts };
}

/** One line: CPU seconds per part between two snapshots, and the machine's busy cores. */
export function cpuBreakdown(before: CpuSnapshot, after: CpuSnapshot): string {
  const wall = (after.at - before.at) / 1000;
  const busy = after.machineBusy - before.machineBusy;
  let known = 0;
  const parts = [...after.parts].map(([name, v]) => {
    const d = v - (before.parts.get(name) ?? 0);
    known += d;
    return `${name} ${d.toFixed(1)}`;
  });
  return (
    `CPU s over ${wall.toFixed(1)} s: machine busy ${busy.toFixed(1)} (${(busy / wall).toFixed(2)} of the cores), ` +
    `${parts.join(', ')}, other ${(busy - known).toFixed(1)}`
  );
}
