/**
 * The chaos harness: its own Temporal dev server (the pinned CLI, a SQLite file, so it can be killed with
 * SIGKILL and restarted on the same file and port), the chaos worker as a child process, the lab, and one
 * function that runs one case (scenario × kill point) and says what happened.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { findFault, healFault, injectFault } from '../../src/lab/faults.js';
import { CONTAINERS } from '../../src/lab/settings.js';
import { ensureTemporalBinary } from '../../src/temporal/binary.js';
import { searchAttributeFlags } from '../../src/temporal/dev-server.js';
import { writeWorkflowBundle } from '../../src/temporal/workflow-bundle.js';
import { approveSignal, statusQuery } from '../../src/shared/messages.js';
import type { RunbookReport, RunbookStatus } from '../../src/shared/types.js';
import { ensureLab, flush, type Lab } from '../helpers/lab.js';
import { freePort } from '../helpers/ports.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';
import { WORKFLOWS_PATH } from '../../src/worker.js';
import { CHAOS_WORKFLOW_INTERCEPTORS } from './paths.js';
import {
  mailServerRunning,
  COUNT_NAMES,
  INFORMATIONAL,
  delta,
  formatCounts,
  installShims,
  readCounts,
  removeShims,
  type Counts,
} from './lab-counters.js';
import { killPointLabel, type KillPoint, type Scenario } from './scenarios.js';

const CHAOS_WORKER = 'test/chaos/worker.ts';
const CASE_TIMEOUT_MS = Number(process.env.MRB_CHAOS_CASE_TIMEOUT_MS ?? 12 * 60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function log(line: string): void {
  console.error(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

/** `temporal server start-dev` on a SQLite file; kill() is kill -9, start() restarts it on the same file and port. */
export class ChaosServer {
  private child: ChildProcess | undefined;
  private constructor(
    private readonly binary: string,
    readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<ChaosServer> {
    const binary = await ensureTemporalBinary();
    const dir = await mkdtemp(join(tmpdir(), 'mrb-chaos-'));
    const server = new ChaosServer(binary.path, dir, await freePort());
    await server.start();
    return server;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = [
      'server',
      'start-dev',
      '--db-filename',
      join(this.dir, 'temporal.db'),
      '--ip',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--headless',
      '--namespace',
      'default',
      '--log-level',
      'error',
      ...searchAttributeFlags(),
    ];
    let stderr = '';
    const child = spawn(this.binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    this.child = child;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`temporal server exited ${child.exitCode}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`temporal server did not answer in 60 s: ${stderr}`);
      const ok = await Connection.connect({ address: this.address, connectTimeout: 2000 })
        .then(async (c) => {
          await c.workflowService.getSystemInfo({});
          await c.close();
          return true;
        })
        .catch(() => false);
      if (ok) return;
      await sleep(300);
    }
  }

  /** SIGKILL, as a crash would: no shutdown, the SQLite file as it is at that instant. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The lab lock (MRB_LAB_LOCK names the file, e.g. /tmp/mrb-lab.lock), held by a `flock` child per case. */
async function labLock(): Promise<() => void> {
  const file = process.env.MRB_LAB_LOCK;
  if (!file) return () => undefined;
  const holder = spawn('flock', [file, 'sh', '-c', 'echo locked; read _'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  holder.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const deadline = Date.now() + 30 * 60_000;
  while (!out.includes('locked')) {
    if (holder.exitCode !== null) throw new Error(`flock ${file} exited ${holder.exitCode}`);
    if (Date.now() > deadline) throw new Error(`lab lock ${file} not free within 30 minutes`);
    await sleep(200);
  }
  return () => holder.stdin.end();
}

export interface CaseResult {
  scenario: string;
  kill: string;
  verdict: string;
  counts: Counts;
  ok: boolean;
  problems: string[];
  seconds: number;
  workersStarted: number;
}

export interface Chaos {
  lab: Lab;
  server: ChaosServer;
  client: Client;
  /** The workflow code (with the chaos interceptor), bundled once for every worker of the matrix. */
  bundlePath: string;
}

export async function startChaos(): Promise<Chaos> {
  const lab = await ensureLab();
  const server = await ChaosServer.create();
  const connection = await Connection.connect({ address: server.address });
  log(`Temporal dev server on ${server.address} (SQLite in ${server.dir})`);
  // Each case starts one to three workers; bundling the same code in each took ~10 s of a loaded machine.
  const t0 = Date.now();
  const bundlePath = join(server.dir, 'workflow-bundle.js');
  await writeWorkflowBundle(WORKFLOWS_PATH, bundlePath, [CHAOS_WORKFLOW_INTERCEPTORS]);
  log(
    `workflow code bundled once for all workers (${Math.round((Date.now() - t0) / 1000)} s): ${bundlePath}`,
  );
  return { lab, server, client: new Client({ connection, namespace: 'default' }), bundlePath };
}

/** Starts the mail server container when it is stopped, and waits (bounded) for its health check. */
async function mailServerUp(lab: Lab): Promise<void> {
  if (await mailServerRunning(lab)) return;
  const container = lab.ctx.docker.getContainer(CONTAINERS.mailserver);
  await container.start();
  const deadline = Date.now() + 240_000;
  while ((await container.inspect()).State.Health?.Status !== 'healthy') {
    if (Date.now() > deadline) throw new Error(`${CONTAINERS.mailserver} not healthy within 240 s`);
    await sleep(2000);
  }
}

async function heal(lab: Lab, s: Scenario): Promise<void> {
  await mailServerUp(lab);
  for (const f of [...s.faults].reverse()) await healFault(lab.ctx, findFault(f.name));
  // startStop/stop-relay leaves the relay stopped; relay-down's heal starts it and waits for its greeting
  if (s.runbook === 'startStop') await healFault(lab.ctx, findFault('relay-down'));
  await flush(lab);
}

function workerEnv(chaos: Chaos, taskQueue: string, dir: string, kill: KillPoint): Record<string, string> {
  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: chaos.server.address,
    TEMPORAL_NAMESPACE: 'default',
    MRB_TASK_QUEUE: taskQueue,
    MRB_CONFIG: chaos.lab.up.config,
    MRB_CHAOS_DIR: dir,
    MRB_CHAOS_BUNDLE: chaos.bundlePath,
    MRB_CHAOS_KILL: '',
    MRB_CHAOS_COMMAND: '',
  };
  if (kill.kind === 'worker') {
    env.MRB_CHAOS_KILL = `${kill.activityType}:${kill.point}`;
    env.MRB_CHAOS_OCCURRENCE = String(kill.occurrence);
    if ('action' in kill && kill.action.command) env.MRB_CHAOS_COMMAND = kill.action.command;
  } else if (kill.kind === 'server-action') {
    env.MRB_CHAOS_KILL = `${kill.action.activityType}:pause`;
    if (kill.action.command) env.MRB_CHAOS_COMMAND = kill.action.command;
  }
  return env;
}

function expected(s: Scenario): Counts {
  return Object.fromEntries(COUNT_NAMES.map((k) => [k, s.expect[k] ?? 0])) as unknown as Counts;
}

/** Runs one case under the lab lock: inject, run with the kill, approve, wait for the end, count, heal. */
export async function runCase(chaos: Chaos, s: Scenario, kill: KillPoint): Promise<CaseResult> {
  const label = killPointLabel(kill);
  const unlock = await labLock();
  const t0 = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'mrb-chaos-case-'));
  const taskQueue = `chaos-${randomUUID()}`;
  const workers: WorkerProcess[] = [];
  const problems: string[] = [];
  let verdict = '-';
  let counts = zero();
  let handle: WorkflowHandle | undefined;
  const { lab } = chaos;
  log(`${s.name} × ${label}: start`);
  try {
    await heal(lab, s);
    await removeShims(lab);
    for (const f of s.faults) await injectFault(lab.ctx, findFault(f.name), f.args ?? []);
    await installShims(lab);
    if (s.mailServerStopped) await lab.ctx.docker.getContainer(CONTAINERS.mailserver).stop({ t: 30 });
    const before = await readCounts(lab);

    const startWorker = async (withChaos: boolean) => {
      const env = workerEnv(chaos, taskQueue, dir, withChaos ? kill : { kind: 'none' });
      const w = await startWorkerProcess(env, 120_000, CHAOS_WORKER);
      workers.push(w);
      return w;
    };
    let current = await startWorker(true);
    handle = await chaos.client.workflow.start(s.runbook, {
      taskQueue,
      workflowId: `chaos-${s.name.replace('/', '-')}-${randomUUID()}`,
      args: [s.input],
    });
    const approved = new Set<string>();
    let serverKilled = false;
    const deadline = t0 + CASE_TIMEOUT_MS;
    let report: RunbookReport | undefined;
    while (Date.now() < deadline) {
      // a killed worker is replaced by a plain one (as a supervisor would)
      if (current.child.exitCode !== null || current.child.signalCode !== null) {
        log(
          `${s.name} × ${label}: worker exited (${current.child.signalCode ?? current.child.exitCode}); starting a new one`,
        );
        current = await startWorker(false);
      }
      if (kill.kind === 'server-action' && !serverKilled && existsSync(join(dir, 'paused'))) {
        serverKilled = true;
        log(`${s.name} × ${label}: kill -9 the Temporal server while the action runs`);
        await chaos.server.kill();
        await writeFile(join(dir, 'go'), 'go\n');
        await sleep(3000);
        await chaos.server.start();
        log(`${s.name} × ${label}: Temporal server restarted on the same SQLite file`);
      }
      const status: RunbookStatus | undefined = await handle.query(statusQuery).catch(() => undefined);
      const pending = status?.pending;
      if (pending && s.approve.includes(pending.step) && !approved.has(pending.requestId)) {
        if (kill.kind === 'server-approval' && !serverKilled && pending.step === kill.step) {
          serverKilled = true;
          log(`${s.name} × ${label}: kill -9 the Temporal server during the approval wait`);
          await chaos.server.kill();
          await sleep(2000);
          await chaos.server.start();
          log(`${s.name} × ${label}: Temporal server restarted on the same SQLite file`);
          continue;
        }
        const sent = await handle
          .signal(approveSignal, { request: pending.requestId, step: pending.step, by: 'chaos-harness' })
          .then(() => true)
          .catch(() => false);
        if (sent) approved.add(pending.requestId);
      }
      const description = await handle.describe().catch(() => undefined);
      if (description && description.status.name !== 'RUNNING') {
        report = (await handle.result().catch((e: unknown) => {
          problems.push(`run ${description.status.name}: ${(e as Error).message}`);
          return undefined;
        })) as RunbookReport | undefined;
        break;
      }
      await sleep(500);
    }
    if (!report && problems.length === 0) problems.push(`no result within ${CASE_TIMEOUT_MS / 1000} s`);
    if (kill.kind === 'worker' && !existsSync(join(dir, 'killed')))
      problems.push('the kill point was never reached');
    verdict = report?.verdict ?? (problems.length ? 'timeout' : '-');
    if (report && report.verdict !== s.verdict) {
      problems.push(`verdict ${report.verdict}, want ${s.verdict}: ${report.cause}`);
    }
    counts = delta(before, await readCounts(lab));
    const want = expected(s);
    const checked = s.check ?? COUNT_NAMES.filter((k) => !INFORMATIONAL.includes(k));
    const wrong = checked.filter((k) => counts[k] !== want[k]);
    if (wrong.length > 0) {
      const got = Object.fromEntries(checked.map((k) => [k, counts[k]]));
      problems.push(`counts ${formatCounts(got)}, want ${formatCounts(want)}`);
    }
  } catch (err) {
    problems.push(`harness: ${(err as Error).message}`);
  } finally {
    if (handle) await handle.terminate('chaos case over').catch(() => undefined);
    await Promise.all(workers.map((w) => w.kill()));
    await heal(lab, s).catch((e: unknown) => problems.push(`heal: ${(e as Error).message}`));
    await removeShims(lab).catch((e: unknown) => problems.push(`remove shims: ${(e as Error).message}`));
    await rm(dir, { recursive: true, force: true });
    unlock();
  }
  const result: CaseResult = {
    scenario: s.name,
    kill: label,
    verdict,
    counts,
    ok: problems.length === 0,
    problems,
    seconds: Math.round((Date.now() - t0) / 1000),
    workersStarted: workers.length,
  };
  log(
    `${s.name} × ${label}: ${result.ok ? 'OK' : 'FAIL'} ${verdict} ${formatCounts(counts)} (${result.seconds} s)${
      result.ok ? '' : `\n    ${problems.join('\n    ')}`
    }`,
  );
  return result;
}

function zero(): Counts {
  return Object.fromEntries(COUNT_NAMES.map((k) => [k, 0])) as unknown as Counts;
}

/** The table: scenario × kill point → verdict, counts, ok. */
export function table(results: readonly CaseResult[]): string {
  const rows = [
    ['scenario', 'kill point', 'verdict', 'counts', 'result', 's'],
    ...results.map((r) => [
      r.scenario,
      r.kill,
      r.verdict,
      formatCounts(r.counts),
      r.ok ? 'ok' : `FAIL: ${r.problems.join('; ').slice(0, 160)}`,
      String(r.seconds),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => Math.min(row[i]!.length, 60))));
  const line = (row: string[]) => `| ${row.map((c, i) => (i < 5 ? c.padEnd(widths[i]!) : c)).join(' | ')} |`;
  const passed = results.filter((r) => r.ok).length;
  return [
    line(rows[0]!),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
    '',
    `${passed}/${results.length} cases ok, ${results.length - passed} failed; ${results.reduce((n, r) => n + r.seconds, 0)} s`,
  ].join('\n');
}
