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
import { startTestReceiver } from '../helpers/receiver.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { runWorkflowId } from '../../src/temporal/start-run.js';
import { pollUntil } from '../helpers/poll.js';
import { freePort } from '../helpers/ports.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

const TOKEN = TEST_SECRETS.receiverToken ?? '';
const TARGETS = ['t1', 't2', 't3', 't4', 't5'];
const RUNBOOKS = { PostfixQueueBacklog: 'queueBacklog', RelayDown: 'relayUnresponsive' } as const;
const PAUSE_MS = 8_000;
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
    targets: [...TARGETS],
    routes: RUNBOOKS,
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
  return JSON.stringify({
    version: '4',
    groupKey: `{}:{alertname="${alertname}",target="${target}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'mail-runbooks',
    groupLabels: { alertname, target },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    alerts: [
      {
        status: 'firing',
        labels: { alertname, target },
        annotations: {},
        startsAt: new Date().toISOString(),
        fingerprint: `${alertname}-${target}`,
      },
    ],
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
