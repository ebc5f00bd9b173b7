/**
 * A real Temporal cluster, not only the dev server: `npm run cluster`'s code (src/temporal/cluster.ts) brings
 * up the server built from go.temporal.io/server on a PostgreSQL of its own, in a folder of this test's, on
 * free loopback ports. Against it, with two worker processes (test/helpers/cluster-worker.ts):
 * - the search attributes are registered through the operator API, per namespace;
 * - the real CLI, alert receiver and schedules start runs there (TEMPORAL_ADDRESS), the CLI lists them
 *   through the search attributes and approves through the `decide` Update;
 * - a run survives SIGKILL of the worker running its step (the other worker finishes it);
 * - a run survives the server being killed and started again on the same PostgreSQL.
 * No lab. Skipped, saying why, only when the server is not built and Go is not there to build it.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporalDispatcher } from '../../src/alerts/dispatch.js';
import type { Receiver } from '../../src/alerts/receiver.js';
import { portInUse } from '../../src/preflight/probes.js';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes.js';
import { fleetWorkflowId, type ScheduledFleetResult } from '../../src/shared/fleet.js';
import type { RunbookReport } from '../../src/shared/types.js';
import { findGo } from '../../src/temporal/binary.js';
import {
  clusterDown,
  clusterUp,
  servicePorts,
  startServer,
  stopServer,
  type ClusterUp,
} from '../../src/temporal/cluster.js';
import { connectClient } from '../../src/temporal/connection.js';
import { ensureSchedules, scheduleId, triggerSchedule } from '../../src/temporal/schedules.js';
import { findServerBinaries } from '../../src/temporal/server-binary.js';
import type { RunRow } from '../../src/cli/render.js';
import type { StepRecord } from '../helpers/cluster-activities.js';
import { inProcessCli, type Cli } from '../helpers/cli.js';
import { pollUntil } from '../helpers/poll.js';
import { freePort } from '../helpers/ports.js';
import { startTestReceiver } from '../helpers/receiver.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';

const NAMESPACE = 'mail-runbooks-test';
const TASK_QUEUE = 'cluster-test';
const TOKEN = 'cluster-test-token';
const bin = fileURLToPath(new URL('../../bin/mail-runbooks.js', import.meta.url));

const canRun = Boolean((await findServerBinaries()) ?? (await findGo()));
if (!canRun) {
  console.warn(
    'cluster test skipped: no temporal-server in the tools folder and no Go to build it (see docs/deploy.md)',
  );
}

const log: string[] = [];
const say = (line: string): void => void log.push(`${new Date().toISOString()} ${line}`);
let dir: string;
let cluster: ClusterUp;
let client: Client;
let cli: Cli;
let receiver: Receiver | undefined;
const workers: WorkerProcess[] = [];
const figures: Record<string, string> = {};

/** A frontend port whose whole block (membership ports below it, the rest above) is free. */
async function freeServerPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const all = Object.values(servicePorts(port)).flatMap((p) => Object.values(p));
    const busy = await Promise.all(all.map((p) => portInUse('127.0.0.1', p)));
    if (!busy.some(Boolean)) return port;
  }
  throw new Error('no free block of ports for the server');
}

const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;

beforeAll(async () => {
  if (!canRun) return;
  // Postgres runs as the `postgres` user when we are root: it must be able to reach its folder.
  dir = await mkdtemp(join(tmpdir(), 'mrb-cluster-'));
  await chmod(dir, 0o755);
  const t0 = Date.now();
  cluster = await clusterUp({
    dir: join(dir, 'cluster'),
    settings: { port: await freeServerPort(), pgPort: await freePort(), namespace: NAMESPACE },
    log: say,
  });
  figures.up = seconds(t0);
  const env = {
    TEMPORAL_ADDRESS: cluster.address,
    TEMPORAL_NAMESPACE: NAMESPACE,
    MRB_TASK_QUEUE: TASK_QUEUE,
    MRB_CLUSTER_TEST_DIR: dir,
  };
  const t1 = Date.now();
  workers.push(
    ...(await Promise.all(
      [1, 2].map(() => startWorkerProcess(env, 180_000, 'test/helpers/cluster-worker.ts')),
    )),
  );
  figures.workers = seconds(t1);
  client = await connectClient({
    mode: 'external',
    connectionOptions: { address: cluster.address },
    namespace: NAMESPACE,
  });
  cli = await inProcessCli({ address: cluster.address }, TASK_QUEUE, {
    TEMPORAL_NAMESPACE: NAMESPACE,
    USER: 'alice',
  });
}, 1_500_000);

const RUN_TARGETS = ['cli-target', 'alert-target', 'schedule-target'];

afterAll(async () => {
  await receiver?.close();
  // A run a failed test left open would keep the receiver's watch on it retrying after the client closed.
  for (const target of RUN_TARGETS) {
    await client?.workflow
      .getHandle(`mrb.queueBacklog.${target}`)
      .terminate('cluster test ended')
      .catch(() => undefined);
  }
  await Promise.all(workers.map((w) => w.kill()));
  await client?.connection.close();
  if (dir) {
    await clusterDown({ dir: join(dir, 'cluster'), purge: true, log: say }).catch((err: unknown) =>
      say(`down: ${String(err)}`),
    );
    await rm(dir, { recursive: true, force: true });
  }
  console.error(`cluster test figures: ${JSON.stringify(figures)}`);
});

/** The process that ran an attempt of a step of clusterSteps (from the file slowStep leaves). */
async function stepRunner(step: number): Promise<number | undefined> {
  const files = (await readdir(dir)).filter((f) => f.startsWith(`step-${step}.`));
  return files.length ? Number(await readFile(join(dir, files[0]!), 'utf8')) : undefined;
}

/** When the first attempt of a step started (its file's mtime). */
async function stepStartedAt(step: number): Promise<number> {
  return (await stat(join(dir, `step-${step}.attempt-1`))).mtimeMs;
}

/** Starts a run of four 1.5 s steps, and returns once its step 2 runs, with the worker running it. */
async function stepsRunningStep2(name: string) {
  for (const f of await readdir(dir)) if (f.startsWith('step-')) await rm(join(dir, f));
  const handle = await client.workflow.start('clusterSteps', {
    taskQueue: TASK_QUEUE,
    workflowId: `${name}-${Date.now()}`,
    args: [{ steps: 4, stepMs: 1_500 }],
  });
  const victimPid = await pollUntil(60_000, 'step 2 running', () => stepRunner(2));
  return { handle, victimPid };
}

describe.skipIf(!canRun)('a real Temporal cluster (server on PostgreSQL)', () => {
  it('has our search attributes in its namespace, registered through the operator API', async () => {
    const { customAttributes } = await client.connection.operatorService.listSearchAttributes({
      namespace: NAMESPACE,
    });
    for (const key of ALL_SEARCH_ATTRIBUTES) expect(customAttributes, key.name).toHaveProperty(key.name);
  });

  it('the CLI, the alert receiver and a schedule start runs there; the CLI lists and approves them', async () => {
    // The CLI.
    const started = await cli('start', 'queueBacklog', '--target', 'cli-target', '--json');
    expect(started.code, started.stderr).toBe(0);
    expect(JSON.parse(started.stdout)).toMatchObject({ outcome: 'started', taskQueue: TASK_QUEUE });

    // The receiver, as Alertmanager posts to it.
    receiver = await startTestReceiver({
      token: TOKEN,
      targets: ['alert-target'],
      routes: { PostfixQueueBacklog: 'queueBacklog' },
      dispatcher: temporalDispatcher(client, { taskQueue: TASK_QUEUE }),
    });
    const posted = await fetch(`${receiver.url}/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        version: '4',
        groupKey: '{}:{alertname="PostfixQueueBacklog",target="alert-target"}',
        truncatedAlerts: 0,
        status: 'firing',
        receiver: 'mail-runbooks',
        groupLabels: { alertname: 'PostfixQueueBacklog', target: 'alert-target' },
        commonLabels: {},
        commonAnnotations: {},
        externalURL: 'http://127.0.0.1:9093',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'PostfixQueueBacklog', target: 'alert-target' },
            annotations: {},
            startsAt: new Date().toISOString(),
            fingerprint: 'c1u5732',
          },
        ],
      }),
    });
    expect(posted.status, await posted.text()).toBe(200);

    // A schedule, triggered now: its scheduledFleet workflow runs on the workers and starts a fleet, whose
    // child is the run.
    const spec = {
      name: 'cluster-check',
      runbook: 'queueBacklog',
      cron: '0 3 * * *',
      timezone: 'UTC',
      jitterSeconds: 0,
      selection: 'schedule-target',
      targets: ['schedule-target'],
      maxConcurrent: 5,
      maxFailures: 3,
    };
    expect(await ensureSchedules(client, [spec], { taskQueue: TASK_QUEUE })).toEqual([
      { id: scheduleId(spec), outcome: 'created' },
    ]);
    await triggerSchedule(client, scheduleId(spec));

    // All three await approval; `list --awaiting` finds them through the search attributes (SQL visibility).
    const targets = RUN_TARGETS;
    const rows = await pollUntil(60_000, 'three runs awaiting approval', async () => {
      const r = await cli('list', '--awaiting', '--json');
      const listed = JSON.parse(r.stdout || '[]') as RunRow[];
      return targets.every((t) => listed.some((row) => row.target === t && row.awaitingApproval))
        ? listed
        : undefined;
    });
    expect(rows.map((r) => r.workflowId).sort()).toEqual(targets.map((t) => `mrb.queueBacklog.${t}`).sort());
    // The installed command too, as a person would run it.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [bin, 'list', '--target', 'alert-target'],
      {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: cluster.address,
          TEMPORAL_NAMESPACE: NAMESPACE,
          MRB_TASK_QUEUE: TASK_QUEUE,
        },
      },
    );
    expect(stdout).toMatch(/mrb\.queueBacklog\.alert-target\s+engineFixture\s+alert-target\s+running/);

    // Approved through the Update (by bob: alice started the CLI's run, and four eyes hold here too); each
    // run ends on whichever worker picks it up.
    for (const target of targets) {
      const id = `mrb.queueBacklog.${target}`;
      const approved = await cli('approve', id, '--by', 'bob');
      expect(approved.code, approved.stderr).toBe(0);
      const report = (await client.workflow.getHandle(id).result()) as RunbookReport;
      expect(report.verdict, target).toBe('fixed');
    }
    const starter = (await client.schedule.getHandle(scheduleId(spec)).describe()).info.recentActions[0];
    const scheduled = (await client.workflow
      .getHandle(starter!.action.workflow.workflowId)
      .result()) as ScheduledFleetResult;
    expect(scheduled).toMatchObject({
      outcome: 'started',
      workflowId: fleetWorkflowId('queueBacklog', 'schedule-target'),
    });
  });

  it('a run survives SIGKILL of the worker running its step: the other worker finishes it', async () => {
    const t0 = Date.now();
    const { handle, victimPid } = await stepsRunningStep2('cluster-kill-worker');
    const victim = workers.find((w) => w.child.pid === victimPid);
    expect(victim, `no worker with pid ${victimPid}`).toBeDefined();
    await victim!.kill();
    const survivor = workers.find((w) => w !== victim)!;
    const steps = (await handle.result()) as StepRecord[];
    figures.workerKill = seconds(t0);

    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4]);
    // Step 2 was interrupted with its worker and retried; it and the rest ran on the survivor.
    expect(steps[1]).toMatchObject({ pid: survivor.child.pid });
    expect(steps[1]!.attempt).toBeGreaterThan(1);
    expect(steps.slice(2).every((s) => s.pid === survivor.child.pid)).toBe(true);
    workers.splice(workers.indexOf(victim!), 1);
  });

  it('a run survives the server being killed and started again on the same PostgreSQL', async () => {
    const t0 = Date.now();
    const { handle } = await stepsRunningStep2('cluster-restart-server');
    const down = Date.now();
    await stopServer(cluster.paths, say, 'SIGKILL');
    await startServer(cluster.binaries, cluster.paths, cluster.settings, say);
    figures.serverRestart = seconds(down);
    const steps = (await handle.result()) as StepRecord[];
    figures.serverKillRun = seconds(t0);
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4]);
    // Steps 3 and 4 started after the kill: the run went on from what PostgreSQL kept.
    for (const step of [3, 4]) expect(await stepStartedAt(step)).toBeGreaterThan(down);
    // The workers outlived the server: the run finished on the processes that were there before.
    expect(workers.every((w) => w.child.exitCode === null)).toBe(true);
  });
});
