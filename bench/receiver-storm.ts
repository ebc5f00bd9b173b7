/**
 * The alert receiver under a storm (issue 14, point 3), against a real Temporal dev server with no worker
 * (runs stay open, as while a runbook waits for approval). Each figure is measured for the receiver as
 * shipped and for a baseline in the same run: the same receiver with its open-run memory off, so every
 * repeat of a firing alert makes its round trips to Temporal (the code before this work).
 *
 *   npm run bench -- receiver-storm      (BENCH_STORM=1000, BENCH_RATE=500, BENCH_SECONDS=10, BENCH_TARGETS=1000)
 *
 * 1. 1,000 identical firing alerts, 50 at a time: how many runs (must be 1), and latency.
 * 2. Duplicates at 500 req/s: open loop, and from 50 paced senders (at most 50 in flight): p50/p99; then
 *    the saturation throughput of 50 senders sending as fast as they can.
 * 3. 1,000 targets, one distinct alert each: 1,000 runs; the time, and the receiver's memory (VmHWM/VmRSS).
 * The receiver runs in its own process (bench/receiver-storm-server.ts); the load comes from this one, over
 * keep-alive node:http (post() says why), and each phase also prints this process's longest event-loop stall.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { readFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Client } from '@temporalio/client';
import { webhookBody } from '../test/helpers/receiver.js';
import { withBenchDevServer } from './dev-server.js';

const STORM = Number(process.env.BENCH_STORM ?? '1000');
const RATE = Number(process.env.BENCH_RATE ?? '500');
const SECONDS = Math.min(Number(process.env.BENCH_SECONDS ?? '10'), 120);
const TARGETS = Math.min(Number(process.env.BENCH_TARGETS ?? '1000'), 5000);
const CONCURRENCY = 50;
const TOKEN = randomUUID();

interface Receiver {
  url: string;
  child: ChildProcess;
  taskQueue: string;
}

async function startReceiverProcess(address: string, remember: boolean): Promise<Receiver> {
  const taskQueue = `receiver-storm-${remember ? 'remember' : 'baseline'}-${randomUUID()}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/receiver-storm-server.ts'], {
    env: {
      ...process.env,
      BENCH_TEMPORAL: address,
      BENCH_TOKEN: TOKEN,
      BENCH_TARGETS: String(TARGETS),
      BENCH_TASK_QUEUE: taskQueue,
      BENCH_REMEMBER: remember ? '1' : '0',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the receiver did not start within 60 s')), 60_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`the receiver exited (${code})`)));
  });
  return { url: (JSON.parse(first) as { url: string }).url, child, taskQueue };
}

function alertBody(target: string, tag: string): string {
  const labels = { alertname: 'StormAlert', target };
  return webhookBody(
    [{ status: 'firing', labels, annotations: {}, startsAt: new Date().toISOString(), fingerprint: tag }],
    { groupKey: `{}:{alertname="StormAlert",target="${target}"}`, groupLabels: labels, commonLabels: labels },
  );
}

interface Answer {
  ms: number;
  status: number;
  outcome: string;
}

/**
 * The load comes over node:http with keep-alive sockets (at most as many as requests in flight): the lighter
 * client. With fetch (undici) this process's own event loop stalled 50-140 ms every second under 500 req/s
 * (measured with monitorEventLoopDelay while the receiver's stayed under 30 ms), and those stalls landed in
 * the receiver's p99.
 */
const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256 });

/** One post; a failed request counts as status 0 with its error, not as a crash of the bench. */
function post(r: Receiver, body: string): Promise<Answer> {
  const t = performance.now();
  return new Promise<Answer>((resolve) => {
    const done = (status: number, outcome: string) => resolve({ ms: performance.now() - t, status, outcome });
    const req = httpRequest(
      `${r.url}/alerts`,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err: NodeJS.ErrnoException) => done(0, `error ${err.code ?? err.name}`));
        res.on('end', () => {
          try {
            const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
              results?: Array<{ outcome: string }>;
            };
            done(res.statusCode ?? 0, json.results?.[0]?.outcome ?? '-');
          } catch {
            done(res.statusCode ?? 0, 'not JSON');
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => done(0, `error ${err.code ?? err.name}`));
    req.end(body);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface Stats {
  n: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  outcomes: Record<string, number>;
  /** The longest stall of this process's own event loop in the phase: when it nears p99, the load generator, not the receiver, set it. */
  loadLoopMaxMs: number;
}

/** This process's event-loop delay, reset at the start of each phase. */
const loadLoop = monitorEventLoopDelay({ resolution: 5 });
loadLoop.enable();

function stats(answers: Answer[], seconds: number): Stats {
  const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
  const outcomes: Record<string, number> = {};
  for (const a of answers)
    outcomes[`${a.status} ${a.outcome}`] = (outcomes[`${a.status} ${a.outcome}`] ?? 0) + 1;
  return {
    n: answers.length,
    seconds,
    rate: answers.length / seconds,
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    outcomes,
    loadLoopMaxMs: loadLoop.max / 1e6,
  };
}

/** `count` posts, `concurrency` senders each sending its next as soon as its last is answered. */
async function closedLoop(
  r: Receiver,
  bodies: () => string,
  count: number,
  concurrency: number,
): Promise<Stats> {
  loadLoop.reset();
  const answers: Answer[] = [];
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        answers.push(await post(r, bodies()));
      }
    }),
  );
  return stats(answers, (performance.now() - t) / 1000);
}

/**
 * `senders` senders together sending `rate` posts a second for `seconds`, each waiting for its answer before
 * its next post (so at most `senders` are in flight, as with that many Alertmanagers).
 */
async function pacedSenders(
  r: Receiver,
  body: string,
  senders: number,
  rate: number,
  seconds: number,
): Promise<Stats> {
  const perSender = Math.round((rate * seconds) / senders);
  const interval = (senders * 1000) / rate;
  loadLoop.reset();
  const answers: Answer[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: senders }, async (_, i) => {
      for (let k = 0; k < perSender; k++) {
        const wait = start + (i * 1000) / rate + k * interval - performance.now();
        if (wait > 1) await new Promise((res) => setTimeout(res, wait));
        answers.push(await post(r, body));
      }
    }),
  );
  return stats(answers, (performance.now() - start) / 1000);
}

/** A post every 1/rate s for `seconds`, whatever the answers' latency (as many senders as it takes). */
async function openLoop(r: Receiver, body: string, rate: number, seconds: number): Promise<Stats> {
  const total = Math.round(rate * seconds);
  const start = performance.now();
  loadLoop.reset();
  const pending: Array<Promise<Answer>> = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((res) => setTimeout(res, wait));
    pending.push(post(r, body));
  }
  const answers = await Promise.all(pending);
  return stats(answers, (performance.now() - start) / 1000);
}

async function memory(pid: number): Promise<{ rssMB: number; hwmMB: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 };
}

async function countRuns(client: Client, taskQueue: string, want: number): Promise<number> {
  let found = 0;
  // Bounded: visibility catches up within a minute.
  for (let i = 0; i < 60; i++) {
    found = (await client.workflow.count(`TaskQueue = "${taskQueue}"`)).count;
    if (found >= want) break;
    await new Promise((res) => setTimeout(res, 1_000));
  }
  return found;
}

const fmt = (s: Stats): string =>
  `${s.n} req in ${s.seconds.toFixed(1)} s (${s.rate.toFixed(0)} req/s), p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, ${JSON.stringify(s.outcomes)}, load generator's longest stall ${s.loadLoopMaxMs.toFixed(0)} ms`;

async function main(): Promise<void> {
  await withBenchDevServer('storm', (server, client) => storm(server.address, client));
}

async function storm(address: string, client: Client): Promise<void> {
  const receivers: Receiver[] = [];
  try {
    const remember = await startReceiverProcess(address, true);
    const baseline = await startReceiverProcess(address, false);
    receivers.push(remember, baseline);
    console.log(
      `receiver-storm: Temporal dev server ${address}; receivers ${remember.url} (as shipped), ${baseline.url} (baseline)`,
    );

    const results: Record<string, { storm: Stats; runs: number; open: Stats; closed: Stats }> = {};
    for (const [name, r] of [
      ['shipped', remember],
      ['baseline', baseline],
    ] as const) {
      const body = alertBody(`storm-${name}`, `storm-${name}`);
      const storm = await closedLoop(r, () => body, STORM, CONCURRENCY);
      const runs = await countRuns(client, r.taskQueue, 1);
      console.log(
        `${name}: ${STORM} identical firing alerts, ${CONCURRENCY} at a time: ${runs} run(s); ${fmt(storm)}`,
      );
      const open = await openLoop(r, body, RATE, SECONDS);
      console.log(`${name}: duplicates at ${RATE} req/s for ${SECONDS} s: ${fmt(open)}`);
      const closed = await pacedSenders(r, body, CONCURRENCY, RATE, SECONDS);
      console.log(
        `${name}: duplicates at ${RATE} req/s from ${CONCURRENCY} concurrent senders: ${fmt(closed)}`,
      );
      const saturated = await closedLoop(r, () => body, RATE * SECONDS, CONCURRENCY);
      console.log(
        `${name}: duplicates as fast as ${CONCURRENCY} senders can send (saturation): ${fmt(saturated)}`,
      );
      results[name] = { storm, runs, open, closed };
    }

    // 1,000 targets, one distinct alert each (the shipped receiver; its memory after).
    const before = await memory(remember.child.pid!);
    let i = 0;
    const fleet = await closedLoop(
      remember,
      () => alertBody(`t${i++ % TARGETS}`, `fleet-${i}`),
      TARGETS,
      CONCURRENCY,
    );
    const fleetRuns = (await countRuns(client, remember.taskQueue, TARGETS + 1)) - 1;
    const after = await memory(remember.child.pid!);
    console.log(
      `shipped: ${TARGETS} targets, one distinct alert each: ${fleetRuns} new runs; ${fmt(fleet)}; receiver RSS ${before.rssMB.toFixed(0)} -> ${after.rssMB.toFixed(0)} MB (peak ${after.hwmMB.toFixed(0)} MB)`,
    );

    const s = results.shipped!;
    const b = results.baseline!;
    const ratio = (k: 'open' | 'closed', p: 'p99' | 'p50'): string => (s[k][p] / b[k][p]).toFixed(3);
    console.log(
      `summary: runs from the storm ${s.runs} (baseline ${b.runs}); p99 at ${RATE} req/s ${s.open.p99.toFixed(1)} ms vs ${b.open.p99.toFixed(1)} ms (ratio ${ratio('open', 'p99')}); p99 with ${CONCURRENCY} senders ${s.closed.p99.toFixed(1)} ms vs ${b.closed.p99.toFixed(1)} ms (ratio ${ratio('closed', 'p99')}); ${TARGETS} targets -> ${fleetRuns} runs in ${fleet.seconds.toFixed(1)} s, receiver peak RSS ${after.hwmMB.toFixed(0)} MB`,
    );
  } finally {
    for (const r of receivers) r.child.kill('SIGTERM');
  }
}

await main();
