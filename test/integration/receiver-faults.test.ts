/**
 * The alert receiver while Temporal is unreachable: a burst of alerts for several (runbook, target) pairs
 * arrives while the Temporal server is paused (SIGSTOP). The receiver answers 503 with Retry-After instead
 * of hanging; a client that retries as Alertmanager does (after Retry-After) gets every alert in once the
 * server runs again, and each (runbook, target) has exactly one run. The server is this test's own dev
 * server, so pausing it disturbs no other test. No worker: the runs simply stay open.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporalDispatcher } from '../../src/alerts/dispatch.js';
import type { Receiver } from '../../src/alerts/receiver.js';
import { startTestReceiver, webhookBody } from '../helpers/receiver.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { runWorkflowId } from '../../src/temporal/start-run.js';
import { pollUntil } from '../helpers/poll.js';
import { freePort } from '../helpers/ports.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

const TOKEN = TEST_SECRETS.receiverToken ?? '';
const TARGETS = ['t1', 't2', 't3', 't4', 't5'];
const RUNBOOKS = { PostfixQueueBacklog: 'queueBacklog', RelayDown: 'relayUnresponsive' } as const;
const PAUSE_MS = 8_000;
/** The storm's own (alert, runbook, target), used by no other test here. */
const STORM = { alertname: 'InboundMailDeferred', runbook: 'inboundDeferred', target: 'storm' } as const;
const taskQueue = `receiver-faults-${randomUUID()}`;

let server: DevServer;
let connection: Connection;
let receiver: Receiver;
let dataDir: string;
const receiverLog: string[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mrb-receiver-faults-'));
  server = await startDevServer({ dataDir, port: await freePort(), uiPort: await freePort(), log: () => {} });
  connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  receiver = await startTestReceiver({
    token: TOKEN,
    targets: [...TARGETS, STORM.target],
    routes: { ...RUNBOOKS, [STORM.alertname]: STORM.runbook },
    dispatcher: temporalDispatcher(client, { taskQueue, callTimeoutMs: 2_000 }),
    dispatchTimeoutMs: 4_000,
    logTo: receiverLog,
  });
});

afterAll(async () => {
  if (server?.pid) process.kill(server.pid, 'SIGCONT'); // never leave it paused
  await receiver?.close();
  await connection?.close();
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function group(alertname: string, target: string): string {
  const alert = {
    status: 'firing' as const,
    labels: { alertname, target },
    annotations: {},
    startsAt: new Date().toISOString(),
    fingerprint: `${alertname}-${target}`,
  };
  return webhookBody([alert], {
    groupKey: `{}:{alertname="${alertname}",target="${target}"}`,
    groupLabels: { alertname, target },
  });
}

interface Delivery {
  statuses: number[];
  retryAfter: Array<string | null>;
}

/** Posts like Alertmanager: on a 5xx, waits Retry-After and sends the same group again (bounded). */
async function deliver(payload: string, deadline: number): Promise<Delivery> {
  const result: Delivery = { statuses: [], retryAfter: [] };
  while (Date.now() < deadline) {
    const res = await fetch(`${receiver.url}/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: payload,
      signal: AbortSignal.timeout(30_000),
    });
    await res.arrayBuffer();
    result.statuses.push(res.status);
    if (res.status < 500) return result;
    const retryAfter = res.headers.get('retry-after');
    result.retryAfter.push(retryAfter);
    await new Promise((r) => setTimeout(r, Math.min(Number(retryAfter ?? 1), 15) * 1000));
  }
  return result;
}

describe('alert receiver while Temporal is paused', () => {
  it('answers 503 with Retry-After, loses nothing, and starts exactly one run per (runbook, target)', async () => {
    const pairs = TARGETS.flatMap((target) =>
      Object.keys(RUNBOOKS).map((alertname) => ({ alertname, target })),
    );
    const deadline = Date.now() + 120_000;
    // A first alert goes through while the server runs; then the server stops answering mid-burst.
    const first = await deliver(group(pairs[0]!.alertname, pairs[0]!.target), deadline);
    expect(first.statuses).toEqual([200]);
    expect(server.pid).toBeDefined();
    process.kill(server.pid!, 'SIGSTOP');
    let resumed = false;
    const resume = setTimeout(() => {
      process.kill(server.pid!, 'SIGCONT');
      resumed = true;
    }, PAUSE_MS);
    try {
      // Every pair twice (Alertmanager repeats groups), all at once.
      const burst = await Promise.all(
        [...pairs, ...pairs].map(({ alertname, target }) => deliver(group(alertname, target), deadline)),
      );
      expect(resumed).toBe(true);
      const refused = burst.filter((d) => d.statuses[0] === 503);
      expect(refused.length, 'requests answered 503 while Temporal was paused').toBeGreaterThan(0);
      for (const d of refused) expect(Number(d.retryAfter[0])).toBeGreaterThan(0);
      for (const d of burst) expect(d.statuses.at(-1), JSON.stringify(d)).toBe(200);
    } finally {
      clearTimeout(resume);
      process.kill(server.pid!, 'SIGCONT');
    }

    const client = new Client({ connection });
    const runs = await pollUntil(30_000, 'visibility lists every run', async () => {
      const found: string[] = [];
      for await (const wf of client.workflow.list({ query: `TaskQueue = "${taskQueue}"` }))
        found.push(wf.workflowId);
      return found.length >= pairs.length ? found : undefined;
    });
    const expected = pairs.map(({ alertname, target }) =>
      runWorkflowId(RUNBOOKS[alertname as keyof typeof RUNBOOKS], target),
    );
    expect(runs.sort()).toEqual(expected.sort());
    expect(receiverLog.some((l) => /could not dispatch/.test(l))).toBe(true);
  });
});

interface Answer {
  status: number;
  results: Array<{ outcome: string; runId?: string }>;
}

async function postOnce(payload: string, timeoutMs = 30_000): Promise<Answer> {
  const res = await fetch(`${receiver.url}/alerts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: payload,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as { results?: Answer['results'] };
  return { status: res.status, results: body.results ?? [] };
}

/** `count` posts of `payload`, `concurrency` at a time. */
async function storm(
  payload: string,
  count: number,
  concurrency: number,
  timeoutMs?: number,
): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let sent = 0; sent < count; sent += concurrency)
    answers.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(concurrency, count - sent) }, () => postOnce(payload, timeoutMs)),
      )),
    );
  return answers;
}

const outcomes = (answers: Answer[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const a of answers) {
    const key = `${a.status} ${a.results[0]?.outcome}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
};

describe('a storm of repeats of one firing alert', () => {
  it('makes one run, answers repeats without Temporal while it is open, and starts a new run after it ends', async () => {
    const payload = group(STORM.alertname, STORM.target);
    const first = await storm(payload, 1_000, 50);
    expect(outcomes(first)).toEqual({ '200 started': 1, '200 deduplicated': 999 });
    const runId = first.find((a) => a.results[0]?.outcome === 'started')!.results[0]!.runId;

    const client = new Client({ connection });
    const workflowId = runWorkflowId(STORM.runbook, STORM.target);
    const runs = await pollUntil(30_000, 'visibility lists the storm run', async () => {
      const found: string[] = [];
      for await (const wf of client.workflow.list({ query: `WorkflowId = "${workflowId}"` }))
        found.push(wf.runId);
      return found.length > 0 ? found : undefined;
    });
    expect(runs).toEqual([runId]);

    // Temporal paused: repeats are still answered at once, so none of them waits for a round trip.
    process.kill(server.pid!, 'SIGSTOP');
    let paused: Answer[];
    try {
      paused = await storm(payload, 200, 50, 3_000);
    } finally {
      process.kill(server.pid!, 'SIGCONT');
    }
    expect(outcomes(paused)).toEqual({ '200 deduplicated': 200 });
    for (const a of paused) expect(a.results[0]!.runId).toBe(runId);

    // The run ends: the receiver hears of it, and the next firing starts a new run.
    await client.workflow.getHandle(workflowId, runId).terminate('the storm test is over');
    const next = await pollUntil(15_000, 'a firing after the run ended starts a new run', async () => {
      const a = await postOnce(payload);
      return a.results[0]?.outcome === 'started' ? a : undefined;
    });
    expect(next.results[0]!.runId).not.toBe(runId);
    await client.workflow.getHandle(workflowId).terminate('the storm test is over');
  });
});
