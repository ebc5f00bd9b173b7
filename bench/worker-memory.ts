/**
 * The shipped worker's memory (issue 14, point 1: peak RSS under 150 MB): `node dist/worker.js`, the
 * compiled build an installed package runs (bin/load-entry.js, deploy/), started against a throwaway dev
 * server on loopback, its /proc/<pid>/status sampled every 100 ms: RSS when it polls, RSS after an idle
 * spell, and its peak (VmHWM) over start, idle and a few statusCheck runs. Each variant is a fresh process:
 *   prebuilt         the workflow code from dist/workflow-bundle.js, made by `npm run build` (the shipped way)
 *   bundle-at-start  the same worker with MRB_WORKFLOW_BUNDLE=off: webpack bundles the workflow code at
 *                    every start (the old way), the baseline of the ratios
 * The runs' target is a container that does not exist and loopback ports nothing listens on, so every
 * activity fails fast (no lab needed): the runs exercise the workflow side (runbook, target guard, sticky
 * cache) and the activities' error paths, not a 100k-message queue summary (bench/queue-floor.ts measures
 * that one, +31-35 MB).
 *
 *   npm run bench -- worker-memory
 *     BENCH_IDLE_SECONDS=30 (idle spell after the worker polls), BENCH_RUNS=4 (statusCheck runs),
 *     BENCH_BUILD=0 (use dist/ as it is instead of running `npm run build` first)
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { freePort } from '../test/helpers/ports.js';
import { writeOneTargetConfig } from '../test/helpers/one-target-config.js';
import { withBenchDevServer } from './dev-server.js';

const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? '30');
const RUNS = Number(process.env.BENCH_RUNS ?? '4');
const READY_TIMEOUT_MS = 120_000;
const RUNS_TIMEOUT_MS = 60_000;
const MB = 1024; // /proc reports kB

interface Variant {
  name: string;
  env: Record<string, string>;
}

const VARIANTS: Variant[] = [
  { name: 'bundle-at-start', env: { MRB_WORKFLOW_BUNDLE: 'off' } },
  { name: 'prebuilt', env: {} },
];

interface Figures {
  readySeconds: number;
  readyRssMb: number;
  idleRssMb: number;
  idleHwmMb: number;
  runsRssMb: number;
  hwmMb: number;
  bundleLine: string;
  runsClosed: number;
}

/** VmRSS and VmHWM of a live process, in MB (NaN once it is gone). */
function memoryOf(pid: number): { rss: number; hwm: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { rss: kb('VmRSS') / MB, hwm: kb('VmHWM') / MB };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A config whose one target answers nothing: a container name no engine has, SSH and SMTP ports on
 * loopback that nothing listens on (picked free just now). Valid, so the worker starts.
 */
async function writeConfig(dir: string): Promise<string> {
  const closed = async () => await freePort();
  return writeOneTargetConfig({
    dir,
    file: 'bench.yaml',
    name: 'bench',
    domain: 'bench.test',
    dockerSocket: join(dir, 'no-docker.sock'),
    container: `mrb-bench-absent-${randomUUID().slice(0, 8)}`,
    secretEnv: 'MRB_BENCH_UNUSED',
    ports: { ssh: await closed(), relay: await closed(), submission: await closed(), imap: await closed() },
  });
}

async function measure(variant: Variant, address: string, config: string, client: Client): Promise<Figures> {
  const taskQueue = `bench-worker-memory-${variant.name}-${randomUUID().slice(0, 8)}`;
  const started = performance.now();
  const child = spawn(process.execPath, ['dist/worker.js'], {
    env: {
      ...process.env,
      ...variant.env,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'default',
      MRB_CONFIG: config,
      MRB_TASK_QUEUE: taskQueue,
      MRB_METRICS_ADDRESS: 'off',
      MRB_BENCH_UNUSED: 'unused',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the worker did not start');
  let output = '';
  let bundleLine = '(no workflow code line)';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000); // webpack's report at start is long
    const line = /^worker: workflow code .*$/m.exec(chunk.toString());
    if (line) bundleLine = line[0];
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  let rss = 0;
  const sampler = setInterval(() => {
    const m = memoryOf(pid);
    if (Number.isFinite(m.rss)) rss = m.rss;
  }, 100);
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!output.includes('worker: polling task queue')) {
      if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}: ${output}`);
      if (Date.now() > deadline)
        throw new Error(`worker not polling within ${READY_TIMEOUT_MS} ms: ${output}`);
      await sleep(100);
    }
    const readySeconds = (performance.now() - started) / 1000;
    const readyRssMb = memoryOf(pid).rss;
    await sleep(IDLE_SECONDS * 1000);
    const idle = memoryOf(pid);

    const handles = await Promise.all(
      Array.from({ length: RUNS }, (_, i) =>
        client.workflow.start('statusCheck', {
          taskQueue,
          workflowId: `bench-worker-memory-${variant.name}-${i}-${randomUUID().slice(0, 8)}`,
          args: [{}],
        }),
      ),
    );
    let runsClosed = 0;
    const runsDeadline = Date.now() + RUNS_TIMEOUT_MS;
    for (const h of handles) {
      const left = runsDeadline - Date.now();
      if (left <= 0) break;
      const closed = await Promise.race([
        h.result().then(
          () => true,
          () => true,
        ),
        sleep(left).then(() => false),
      ]);
      if (closed) runsClosed += 1;
    }
    await Promise.all(handles.map((h) => h.terminate('bench over').catch(() => undefined)));
    const after = memoryOf(pid);
    return {
      readySeconds,
      readyRssMb,
      idleRssMb: idle.rss,
      idleHwmMb: idle.hwm,
      runsRssMb: Math.max(rss, after.rss),
      hwmMb: after.hwm,
      bundleLine,
      runsClosed,
    };
  } finally {
    clearInterval(sampler);
    if (child.exitCode === null) child.kill('SIGTERM');
    const code = await Promise.race([exited, sleep(30_000).then(() => 'timeout' as const)]);
    if (code === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  if (process.env.BENCH_BUILD !== '0') {
    // The bench measures what `npm run build` makes from this checkout, never a stale dist/.
    const build = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error(`npm run build exited ${build.status}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'mrb-bench-worker-memory-'));
  const results = new Map<string, Figures>();
  try {
    const config = await writeConfig(dir);
    await withBenchDevServer('worker-memory', async (server, client) => {
      for (const v of VARIANTS) results.set(v.name, await measure(v, server.address, config, client));
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const base = results.get('bundle-at-start');
  console.log(
    `\nnode dist/worker.js on a dev server, idle ${IDLE_SECONDS} s then ${RUNS} statusCheck runs; ratios against bundle-at-start`,
  );
  const ratio = (x: number, b: number | undefined) => (b ? ` (${(x / b).toFixed(2)}x)` : '');
  for (const [name, f] of results) {
    console.log(
      `  ${name.padEnd(16)} ready in ${f.readySeconds.toFixed(1)} s; RSS at ready ${f.readyRssMb.toFixed(0)} MB, ` +
        `idle ${f.idleRssMb.toFixed(0)} MB${ratio(f.idleRssMb, base?.idleRssMb)}, ` +
        `peak (VmHWM) through idle ${f.idleHwmMb.toFixed(0)} MB${ratio(f.idleHwmMb, base?.idleHwmMb)}, ` +
        `through the runs ${f.hwmMb.toFixed(0)} MB${ratio(f.hwmMb, base?.hwmMb)} (target < 150); ` +
        `${f.runsClosed}/${RUNS} runs closed`,
    );
    console.log(`  ${''.padEnd(16)} ${f.bundleLine}`);
  }
  console.log(`bench took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
