/**
 * Nightly verification over a fleet (issue 14, point 4: 20 lab targets in < 2x the time of one).
 *
 * The lab's mail server is target `lab`. For the run, lighter mail servers join it as targets `lab-02` ...:
 * containers of the lab's mail image with the lab mail server's files (canary account, relay credentials,
 * certificate), without amavis (ENABLE_AMAVIS=0: no content filter), exporters or Docker health check, each
 * publishing only its submission port on 127.0.0.1. They start 4 at a time, each batch ready before the next.
 * All of them relay through the lab's relay to the lab's destination mailbox, so every target's canary
 * crosses real Postfix, the relay and IMAP.
 *
 * Two config schedules of `endToEndVerification`, as `npm start` ensures them, are triggered by hand: one
 * over `lab` alone (the baseline) and one over every target (`label=bench=fleet`). Each time is from the
 * trigger to the end of the fleet the schedule started; after one warm-up of each, the two alternate, ROUNDS
 * times. Each run also says where its time and CPU went (bench/fleet-breakdown.ts). The containers, the
 * config and the dev server are removed on success, failure, Ctrl-C and SIGTERM.
 *
 *   flock /tmp/mrb-lab.lock nice -n 5 npm run bench -- fleet-nightly [--targets 20] [--rounds 3] [--max-concurrent 20]
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type Docker from 'dockerode';
import { parse, stringify } from 'yaml';
import { scheduleSpecs } from '../src/cli/schedules.js';
import { loadConfig } from '../src/config/load.js';
import { containerSpecs } from '../src/lab/containers.js';
import { dexecOk, inspectContainer, pollUntil } from '../src/lab/docker.js';
import { IMAGES } from '../src/lab/images.js';
import { labContext, labNetwork, labUp } from '../src/lab/lab.js';
import { ensureMaterial } from '../src/lab/material.js';
import { CONTAINERS, LAB_LABEL, NETWORK } from '../src/lab/settings.js';
import { tar } from '../src/lab/tar.js';
import { withProgress } from '../src/preflight/progress.js';
import type { FleetReport, ScheduledFleetResult } from '../src/shared/fleet.js';
import { ensureSchedules, scheduleId, triggerSchedule } from '../src/temporal/schedules.js';
import { createWorker } from '../src/worker.js';
import { freePort } from '../test/helpers/ports.js';
import { withBenchDevServer } from './dev-server.js';
import { cpuBreakdown, cpuSnapshot, median, timeBreakdown } from './fleet-breakdown.js';

const BENCH_LABEL = 'org.mail-runbooks.bench';
const RUNBOOK = 'endToEndVerification';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    'max-concurrent': { type: 'string' },
  },
});
const TARGETS = Number(values.targets);
const ROUNDS = Number(values.rounds);
const MAX_CONCURRENT = Number(values['max-concurrent'] ?? values.targets);
for (const [name, n, max] of [
  ['--targets', TARGETS, 100],
  ['--rounds', ROUNDS, 10],
  ['--max-concurrent', MAX_CONCURRENT, 100],
] as const) {
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new Error(`${name} must be a whole number from 1 to ${max}`);
}

const pad = (i: number) => String(i).padStart(2, '0');
const extraName = (i: number) => `mrb-bench-fleet-${pad(i)}`;
const elapsed = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** Lighter servers started at once, each batch ready before the next (all at once overloads 2 cores). */
const START_BATCH = 4;
/** How long one batch may take to become ready. */
const BATCH_READY_MS = 240_000;
/** CPU weight of a lighter server while the others start (they stay out of other work's way meanwhile). */
const STARTING_CPU_SHARES = 2;

/**
 * A lighter copy of the lab's mail server (lab image, its files), publishing submission on `port`: no
 * content filter (amavis), no exporters, no periodic health check. What a target's canary needs stays:
 * Postfix (submission, then the relay), Dovecot (SASL for submission) and rsyslog (the mail log the
 * delivery leg reads).
 */
function lightMailServer(
  mail: Docker.ContainerCreateOptions,
  i: number,
  port: number,
): Docker.ContainerCreateOptions {
  const env = (mail.Env ?? []).filter((e) => !/^(ENABLE_AMAVIS|LAB_EXPORTERS)=/.test(e));
  return {
    ...mail,
    name: extraName(i),
    Hostname: `mail${pad(i)}`,
    Env: [...env, 'ENABLE_AMAVIS=0', 'LAB_EXPORTERS=0'],
    // The image's labels include the lab's (org.mail-runbooks.lab=1): overridden, so that `npm run lab` neither
    // lists nor removes these; this bench does.
    Labels: { [BENCH_LABEL]: 'fleet', [LAB_LABEL]: 'bench' },
    ExposedPorts: { '587/tcp': {} },
    // Docker's periodic check (supervisorctl and ss every 30 s, in every container) would cost CPU during the
    // measured runs; readiness is checked once, below.
    Healthcheck: { Test: ['NONE'] },
    HostConfig: {
      ...mail.HostConfig,
      PortBindings: { '587/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
      Memory: 512 * 1024 * 1024,
      CpuShares: STARTING_CPU_SHARES,
    },
    NetworkingConfig: { EndpointsConfig: { [NETWORK]: { Aliases: [`mail${pad(i)}.lab.test`] } } },
  };
}

/**
 * Ready for a canary: the start script finished, Dovecot's SASL socket is there and Postfix greets on
 * submission (a fixed script, as the lab's health check speaks SMTP).
 */
const READY_CHECK = [
  'bash',
  '-c',
  'test -e /var/lib/lab/ready && test -S /dev/shm/sasl-auth.sock || exit 1; ' +
    "timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/587 || exit 1; IFS= read -r line <&3; " +
    'printf "QUIT\\r\\n" >&3; IFS= read -r bye <&3; [ "${line:0:3}" = 220 ]\'',
];

async function removeExtras(docker: Docker): Promise<void> {
  const ours = await docker.listContainers({ all: true, filters: { label: [`${BENCH_LABEL}=fleet`] } });
  await Promise.all(
    ours.map(async (c) => {
      try {
        await docker.getContainer(c.Id).remove({ force: true, v: true });
      } catch (err) {
        // Already gone, or already being removed by the other clean-up path (an interrupt during a failure).
        if (![404, 409].includes((err as { statusCode?: number }).statusCode ?? 0)) throw err;
      }
    }),
  );
}

/** Waits until lighter server `i` can take a canary. */
async function extraReady(docker: Docker, i: number): Promise<void> {
  await pollUntil(
    `${extraName(i)} to start its mail services`,
    BATCH_READY_MS,
    async () => {
      const info = await inspectContainer(docker, extraName(i));
      if (!info?.State.Running) throw new Error(`${extraName(i)} is ${info?.State.Status ?? 'gone'}`);
      await dexecOk(docker, extraName(i), READY_CHECK, { timeoutMs: 20_000 });
      return true;
    },
    2000,
  );
}

/**
 * Starts the lighter mail servers START_BATCH at a time, each batch ready before the next, at a low CPU
 * weight; returns each one's submission port. Stops early (without error) when the bench is interrupted.
 */
async function startExtras(
  docker: Docker,
  mail: Docker.ContainerCreateOptions,
  files: Parameters<typeof tar>[0],
): Promise<Map<number, number>> {
  const t0 = Date.now();
  const ports = new Map<number, number>();
  const all = Array.from({ length: TARGETS - 1 }, (_, k) => k + 2);
  for (let b = 0; b < all.length && !interrupted; b += START_BATCH) {
    const batch = all.slice(b, b + START_BATCH);
    const names = `${extraName(batch[0]!)}..${pad(batch.at(-1)!)}`;
    for (const i of batch) {
      const port = await freePort();
      const container = await docker.createContainer(lightMailServer(mail, i, port));
      await container.putArchive(tar(files), { path: '/' });
      await container.start();
      ports.set(i, port);
    }
    await withProgress(
      (line) => console.error(line),
      () =>
        `lighter mail servers: waiting for ${names}, ${ports.size - batch.length}/${all.length} ready, ${elapsed(t0)}`,
      () => Promise.all(batch.map((i) => extraReady(docker, i))),
    );
    console.error(`lighter mail servers: ${ports.size}/${all.length} ready (${names}), ${elapsed(t0)}`);
  }
  return ports;
}

/**
 * The lighter servers get the lab mail server's CPU weight for the measured runs: the fleet's servers are
 * weighed as the baseline's one is, so the figure is not skewed by the low weight they started with.
 */
async function equalCpuShares(docker: Docker): Promise<number> {
  const lab = await inspectContainer(docker, CONTAINERS.mailserver);
  const shares = lab?.HostConfig.CpuShares || 1024; // 0: Docker's default weight, 1024
  for (let i = 2; i <= TARGETS; i++) await docker.getContainer(extraName(i)).update({ CpuShares: shares });
  return shares;
}

/** The parts of a lab target the bench changes (the config file as written by `npm run lab -- up`). */
interface LabTarget {
  name: string;
  labels?: Record<string, string>;
  mailServer: { docker: { container: string } };
  canary: { submission: { port: number } };
}

/** The lab's config with the extra targets added and labelled, and the two schedules. */
async function writeBenchConfig(labConfig: string, ports: Map<number, number>): Promise<string> {
  const doc = parse(await readFile(labConfig, 'utf8')) as {
    targets: LabTarget[];
    schedules?: unknown[];
  };
  const lab = doc.targets.find((t) => t.name === 'lab');
  if (!lab) throw new Error(`${labConfig} has no target named lab`);
  lab.labels = { ...lab.labels, bench: 'fleet' };
  for (const [i, port] of ports) {
    const copy = structuredClone(lab);
    copy.name = `lab-${pad(i)}`;
    copy.mailServer.docker.container = extraName(i);
    copy.canary.submission.port = port;
    doc.targets.push(copy);
  }
  const schedule = (name: string, targets: unknown) => ({
    name,
    runbook: RUNBOOK,
    cron: '0 0 1 1 *', // never during the bench: only triggered
    timezone: 'UTC',
    targets,
    maxConcurrent: MAX_CONCURRENT,
    maxFailures: 3,
  });
  doc.schedules = [schedule('bench-one', ['lab']), schedule('bench-fleet', 'label=bench=fleet')];
  // Beside the lab's config: its secret references are relative to that folder.
  const path = join(dirname(labConfig), `bench-fleet-${randomUUID().slice(0, 8)}.yaml`);
  await writeFile(path, stringify(doc), { mode: 0o600 });
  return path;
}

/** When each child of a fleet ran (from Temporal), relative to the trigger. */
interface ChildSpans {
  /** Most children running at one moment. */
  maxConcurrent: number;
  /** Each child's own duration, seconds. */
  durations: number[];
  /** Seconds from the trigger to the first and the last child's start. */
  firstStart: number;
  lastStart: number;
}

async function childSpans(client: Client, report: FleetReport, t0: number): Promise<ChildSpans> {
  const spans = await Promise.all(
    report.targets.map(async (t) => {
      const d = await client.workflow.getHandle(t.workflowId, t.runId).describe();
      return { start: d.startTime.getTime(), end: (d.closeTime ?? new Date()).getTime() };
    }),
  );
  const edges = spans
    .flatMap((s) => [
      { at: s.start, delta: 1 },
      { at: s.end, delta: -1 },
    ])
    .sort((a, b) => a.at - b.at || a.delta - b.delta);
  let running = 0;
  let maxConcurrent = 0;
  for (const e of edges) maxConcurrent = Math.max(maxConcurrent, (running += e.delta));
  const starts = spans.map((s) => s.start);
  return {
    maxConcurrent,
    durations: spans.map((s) => (s.end - s.start) / 1000),
    firstStart: (Math.min(...starts) - t0) / 1000,
    lastStart: (Math.max(...starts) - t0) / 1000,
  };
}

/** The 1-minute load average, sampled every second while a measured run goes on. */
function sampleLoad(): () => number[] {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(loadavg()[0]!), 1000);
  return () => {
    clearInterval(timer);
    return samples;
  };
}

interface Measured {
  seconds: number;
  report: FleetReport;
  spans: ChildSpans;
  load: number[];
  /** Where the time went in the children, and the CPU over the run (bench/fleet-breakdown.ts). */
  breakdown: string[];
}

/** What the CPU breakdown watches: the dev server's process and the containers, grouped. */
interface Watched {
  devServerPid: number | undefined;
  containers: { group: string; id: string }[];
}

async function watched(docker: Docker, devServerPid: number | undefined): Promise<Watched> {
  const containers: Watched['containers'] = [];
  const add = async (group: string, name: string) => {
    const info = await inspectContainer(docker, name);
    if (info) containers.push({ group, id: info.Id });
  };
  for (const role of ['mailserver', 'relay', 'dest'] as const) await add(`lab ${role}`, CONTAINERS[role]);
  for (let i = 2; i <= TARGETS; i++) await add('lighter servers', extraName(i));
  return { devServerPid, containers };
}

/** Triggers the schedule and waits for the fleet it starts to end: seconds, the fleet's report, its children. */
async function runSchedule(client: Client, id: string, watch: Watched): Promise<Measured> {
  const handle = client.schedule.getHandle(id);
  const before = (await handle.describe()).info.recentActions.length;
  const stopSampling = sampleLoad();
  const cpuBefore = await cpuSnapshot(watch.devServerPid, watch.containers);
  const t0 = Date.now();
  await triggerSchedule(client, id);
  const starter = await pollUntil(
    `${id} to start its workflow`,
    60_000,
    async () => {
      const actions = (await handle.describe()).info.recentActions;
      if (actions.length <= before) throw new Error('not yet');
      return actions[actions.length - 1]!.action.workflow.workflowId;
    },
    100,
  );
  const started = (await client.workflow.getHandle(starter).result()) as ScheduledFleetResult;
  if (started.outcome !== 'started') throw new Error(`${id}: ${started.message}`);
  const report = (await client.workflow.getHandle(started.workflowId).result()) as FleetReport;
  const seconds = (Date.now() - t0) / 1000;
  const cpu = cpuBreakdown(cpuBefore, await cpuSnapshot(watch.devServerPid, watch.containers));
  const load = stopSampling();
  return {
    seconds,
    report,
    spans: await childSpans(client, report, t0),
    load,
    breakdown: [await timeBreakdown(client, report.targets), cpu],
  };
}

const fixed = (x: number) => x.toFixed(1);

/**
 * What to undo on any way out, last registered first: on success and failure main's `finally` runs it; on
 * Ctrl-C or SIGTERM the signal handler does, then exits.
 */
const cleanups: { name: string; undo: () => Promise<unknown> }[] = [];
let interrupted = false;

async function cleanUp(): Promise<void> {
  for (let c = cleanups.pop(); c; c = cleanups.pop()) {
    try {
      await c.undo();
    } catch (err) {
      console.error(`clean-up (${c.name}): ${(err as Error).message}`);
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`${signal}: removing the lighter mail servers, the bench config and the dev server`);
    void cleanUp().finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  // The bench's own signal handlers (above) clean up; the worker need not catch them too.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const ctx = labContext();
  const up = await labUp(ctx);
  const material = await ensureMaterial(ctx.paths, () => {});
  const network = await labNetwork(ctx);
  if (!network) throw new Error(`the lab network ${NETWORK} is missing after lab up`);
  // The lab image's mail server spec, whichever mail server the lab itself runs.
  const mail = containerSpecs(network, { ports: up.settings.ports }, IMAGES, material).find(
    (s) => s.role === 'mailserver',
  )!;
  await removeExtras(ctx.docker);
  cleanups.push({ name: 'lighter mail servers', undo: () => removeExtras(ctx.docker) });
  const t0 = Date.now();
  const ports = await startExtras(ctx.docker, mail.create, mail.files);
  if (interrupted) return;
  const shares = await equalCpuShares(ctx.docker);
  console.error(
    `${TARGETS - 1} lighter mail servers up in ${elapsed(t0)} (CPU weight ${shares} from now on, as the lab mail server's)`,
  );
  const configPath = await writeBenchConfig(up.config, ports);
  cleanups.push({ name: 'bench config', undo: () => rm(configPath, { force: true }) });
  process.env.MRB_CONFIG = configPath;
  const specs = scheduleSpecs(await loadConfig(configPath));
  const fleetSpec = specs.find((s) => s.name === 'bench-fleet')!;
  if (fleetSpec.targets.length !== TARGETS)
    throw new Error(`label=bench=fleet picked ${fleetSpec.targets.length} targets, not ${TARGETS}`);

  await withBenchDevServer('fleet', async (server, client) => {
    cleanups.push({ name: 'dev server', undo: () => server.stop() });
    const connection = await NativeConnection.connect({ address: server.address });
    const taskQueue = `bench-fleet-${randomUUID()}`;
    const worker = await createWorker(connection, 'default', { taskQueue });
    const rows: { round: number; one: Measured; fleet: Measured }[] = [];
    const watch = await watched(ctx.docker, server.pid);
    await worker.runUntil(async () => {
      await ensureSchedules(client, specs, { taskQueue });
      // Not measured: the lighter servers have just started (the first submission to each spawns its
      // smtpd, TLS and auth processes) while the lab mail server is long running, and the worker loads its
      // workflow bundle. One of each first, so that every measured round starts warm on both sides.
      for (const which of ['fleet', 'one'] as const) {
        const r = await runSchedule(client, scheduleId({ name: `bench-${which}` }), watch);
        console.error(
          `warm-up, ${which === 'one' ? '1 target' : `${TARGETS} targets`}: ${fixed(r.seconds)} s, ${r.report.verdict} (not counted)`,
        );
      }
      for (let round = 1; round <= ROUNDS; round++) {
        // Alternate which goes first, so neither always runs on a machine still busy from the other.
        const order = round % 2 ? (['one', 'fleet'] as const) : (['fleet', 'one'] as const);
        const took: Partial<Record<'one' | 'fleet', Measured>> = {};
        for (const which of order) {
          const r = await runSchedule(client, scheduleId({ name: `bench-${which}` }), watch);
          took[which] = r;
          console.error(
            `round ${round}, ${which === 'one' ? '1 target' : `${TARGETS} targets`}: ${fixed(r.seconds)} s, ${r.report.verdict}; ` +
              `children ${fixed(Math.min(...r.spans.durations))}-${fixed(Math.max(...r.spans.durations))} s each (median ${fixed(median(r.spans.durations))}), ` +
              `started ${fixed(r.spans.firstStart)}-${fixed(r.spans.lastStart)} s after the trigger, at most ${r.spans.maxConcurrent} at once; ` +
              `load ${fixed(Math.max(...r.load, 0))} max`,
          );
          for (const line of r.breakdown) console.error(`  ${line}`);
          if (r.report.verdict !== 'ok') {
            const bad = r.report.targets.filter((t) => t.failed).map((t) => `${t.target}: ${t.detail}`);
            throw new Error(`the fleet did not verify every target:\n${bad.join('\n')}`);
          }
        }
        rows.push({ round, one: took.one!, fleet: took.fleet! });
      }
    });
    await connection.close();
    console.log(
      `nightly verification (${RUNBOOK}) through a config schedule's fleet, ${TARGETS} lab targets (1 lab mail server + ${TARGETS - 1} lighter ones), maxConcurrent ${MAX_CONCURRENT}; dev server ${server.address}`,
    );
    console.log(
      'round   1 target (s)   N targets (s)   ratio   max at once   load (mean/max, N)   fleet verdicts'.replace(
        /\bN\b/g,
        String(TARGETS),
      ),
    );
    for (const r of rows) {
      const healthy = r.fleet.report.targets.filter((t) => t.verdict === 'healthy').length;
      const load = r.fleet.load.length ? r.fleet.load : [loadavg()[0]!];
      const mean = load.reduce((a, b) => a + b, 0) / load.length;
      console.log(
        `${String(r.round).padStart(5)} ${fixed(r.one.seconds).padStart(14)} ${fixed(r.fleet.seconds).padStart(15)} ${(r.fleet.seconds / r.one.seconds).toFixed(2).padStart(7)}x ${String(r.fleet.spans.maxConcurrent).padStart(13)} ${`${fixed(mean)}/${fixed(Math.max(...load))}`.padStart(20)}   ${healthy}/${TARGETS} healthy`,
      );
    }
    const one = median(rows.map((r) => r.one.seconds));
    const fleet = median(rows.map((r) => r.fleet.seconds));
    console.log(
      `median: 1 target ${fixed(one)} s, ${TARGETS} targets ${fixed(fleet)} s: ${(fleet / one).toFixed(2)}x (target < 2x)`,
    );
    cleanups.pop(); // the dev server: withBenchDevServer stops it now
  });
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  .finally(async () => {
    if (!interrupted) await cleanUp();
  });
