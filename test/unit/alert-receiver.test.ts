/** The receiver over real HTTP on loopback, with a recording dispatcher in place of Temporal. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/body.js';
import { startReceiver, type Dispatcher, type Receiver } from '../../src/alerts/receiver.js';
import { routeAlert, type RoutingConfig } from '../../src/alerts/routing.js';
import { runWorkflowId } from '../../src/temporal/start-run.js';
import { webhookBody } from '../helpers/receiver.js';

const TOKEN = 'test-token-for-receiver';
const routing: RoutingConfig = {
  defaultTarget: 'lab',
  targets: new Set(['lab', 'prod']),
  routes: [
    { match: { alertname: 'PostfixQueueBacklog' }, runbook: 'queueBacklog', targetLabel: 'target' },
    { match: { alertname: 'RelayDown' }, runbook: 'relayUnresponsive', target: 'prod' },
  ],
};

const calls: string[] = [];
const running = new Set<string>();
const dispatcher: Dispatcher = {
  async fire(runbook, target) {
    const id = runWorkflowId(runbook, target);
    calls.push(`fire ${id}`);
    if (running.has(id)) return { workflowId: id, outcome: 'deduplicated' };
    running.add(id);
    return { workflowId: id, outcome: 'started' };
  },
  async resolve(runbook, target) {
    const id = runWorkflowId(runbook, target);
    calls.push(`resolve ${id}`);
    return { workflowId: id, outcome: running.has(id) ? 'delivered' : 'no-run' };
  },
};

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver({
    host: '127.0.0.1',
    port: 0,
    auth: { bearerToken: TOKEN },
    routing,
    dispatcher,
    maxBodyBytes: 4096,
    log: () => {},
  });
});
afterAll(async () => receiver.close());

function alert(status: 'firing' | 'resolved', labels: Record<string, string>): Alert {
  return { status, labels, annotations: {}, startsAt: '2026-11-22T00:00:00Z', fingerprint: 'abc' };
}

const body = webhookBody;

async function post(payload: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${receiver.url}/alerts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    body: payload,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('alert receiver', () => {
  it('starts one run per (runbook, target), however often the alert repeats', async () => {
    const firing = body([alert('firing', { alertname: 'PostfixQueueBacklog', target: 'lab' })]);
    const first = await post(firing);
    expect(first.status).toBe(200);
    expect(first.json.results).toMatchObject([
      { runbook: 'queueBacklog', target: 'lab', outcome: 'started', workflowId: 'mrb.queueBacklog.lab' },
    ]);
    expect((await post(firing)).json.results).toMatchObject([{ outcome: 'deduplicated' }]);
    expect((await post(firing)).json.results).toMatchObject([{ outcome: 'deduplicated' }]);
    const metrics = await (await fetch(`${receiver.url}/metrics`)).text();
    expect(metrics).toMatch(/mrb_runs_started_total\{runbook="queueBacklog"\} 1/);
    expect(metrics).toMatch(/mrb_alerts_deduplicated_total 2/);
  });

  it('delivers a resolved alert to the running run', async () => {
    const res = await post(body([alert('resolved', { alertname: 'PostfixQueueBacklog', target: 'lab' })]));
    expect(res.json.results).toMatchObject([{ outcome: 'delivered', workflowId: 'mrb.queueBacklog.lab' }]);
  });

  it.each([
    ['no credentials', {}, { authorization: '' }, 401, /credentials/],
    ['a wrong token', {}, { authorization: 'Bearer nope' }, 401, /credentials/],
    ['a wrong content type', {}, { 'content-type': 'text/plain' }, 415, /application\/json/],
  ])('refuses %s and starts nothing', async (_what, _extra, headers, status, message) => {
    const before = calls.length;
    const res = await post(body([alert('firing', { alertname: 'RelayDown' })]), headers);
    expect(res.status).toBe(status);
    expect(String(res.json.error)).toMatch(message);
    expect(calls.length).toBe(before);
  });

  it.each([
    ['not JSON', '{"version": "4",', 400, /not JSON/],
    ['a wrong version', body([alert('firing', { alertname: 'X' })], { version: '3' }), 400, /version/],
    ['no alerts', body([]), 400, /alerts/],
    [
      'a bad alert status',
      body([{ ...alert('firing', { alertname: 'X' }), status: 'burning' as 'firing' }]),
      400,
      /alerts\.0\.status/,
    ],
    [
      'too big a body',
      body([alert('firing', { alertname: 'X', big: 'x'.repeat(5000) })]),
      413,
      /larger than 4096/,
    ],
  ])(
    'answers %s with a 4xx that says what is wrong, starting nothing',
    async (_what, payload, status, message) => {
      const before = calls.length;
      const res = await post(payload);
      expect(res.status).toBe(status);
      expect(String(res.json.error)).toMatch(message);
      expect(calls.length).toBe(before);
    },
  );

  it('answers too big a body sent without content-length (chunked) with a 413, starting nothing', async () => {
    const before = calls.length;
    const chunk = new TextEncoder().encode('x'.repeat(1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 64) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${receiver.url}/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toMatch(/larger than 4096/);
    expect(calls.length).toBe(before);
  });

  it('reports alerts that no route maps, without starting anything', async () => {
    const res = await post(body([alert('firing', { alertname: 'SomethingElse' })]));
    expect(res.status).toBe(200);
    expect(res.json.results).toMatchObject([
      { outcome: 'unrouted', reason: 'no route matches alert SomethingElse' },
    ]);
  });
});

describe('alert receiver under load and faults', () => {
  /** A receiver with the defaults (body limit, dispatch deadline) unless given, and the shared dispatcher. */
  async function receiverWith(options: Partial<Parameters<typeof startReceiver>[0]> = {}) {
    return startReceiver({
      host: '127.0.0.1',
      port: 0,
      auth: { bearerToken: TOKEN },
      routing,
      dispatcher,
      log: () => {},
      ...options,
    });
  }

  it('answers a body far over the limit, still being sent, with a 413 the client can read (not a reset)', async () => {
    const before = calls.length;
    const size = 2 * 1024 * 1024;
    const bytes = new Uint8Array(size).fill(0x78);
    // Half a MiB at once (the socket buffers fill), then 64 KiB pieces 5 ms apart: the client is still
    // writing when the receiver has refused the body, and unread data waits on the connection.
    const slowly = (): ReadableStream<Uint8Array> => {
      let offset = 0;
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (offset >= size) return controller.close();
          if (offset >= 512 * 1024) await new Promise((r) => setTimeout(r, 5));
          controller.enqueue(bytes.subarray(offset, (offset += 64 * 1024)));
        },
      });
    };
    for (const declared of [true, false, true, false]) {
      const res = await fetch(`${receiver.url}/alerts`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          ...(declared && { 'content-length': String(size) }),
        },
        body: slowly(),
        duplex: 'half',
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: string }).error).toMatch(/larger than 4096/);
    }
    expect(calls.length).toBe(before);
  });

  it('accepts an Alertmanager group of 1,000 alerts (about 0.5 MB) with the default limit', async () => {
    const big = await receiverWith();
    try {
      const alerts = Array.from({ length: 1000 }, (_, i) => ({
        ...alert('firing', { alertname: 'PostfixQueueBacklog', target: i % 2 ? 'lab' : 'prod' }),
        annotations: { summary: `queue backlog on instance ${i}`, description: 'y'.repeat(300) },
        fingerprint: `f${i}`,
      }));
      const payload = body(alerts);
      expect(payload.length).toBeGreaterThan(450_000);
      const res = await fetch(`${big.url}/alerts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: payload,
      });
      expect(res.status).toBe(200);
      const { results } = (await res.json()) as { results: Array<{ outcome: string }> };
      expect(results).toHaveLength(1000);
      expect(results.every((r) => r.outcome === 'started' || r.outcome === 'deduplicated')).toBe(true);
    } finally {
      await big.close();
    }
  });

  it('answers 503 with Retry-After when the dispatcher fails or does not answer in time', async () => {
    const failing = await receiverWith({
      dispatcher: { ...dispatcher, fire: () => Promise.reject(new Error('connection refused')) },
    });
    const hanging = await receiverWith({
      dispatcher: { ...dispatcher, fire: () => new Promise(() => {}) },
      dispatchTimeoutMs: 300,
    });
    try {
      for (const r of [failing, hanging]) {
        const res = await fetch(`${r.url}/alerts`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: body([alert('firing', { alertname: 'RelayDown' })]),
          signal: AbortSignal.timeout(5000),
        });
        expect(res.status).toBe(503);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    } finally {
      await Promise.all([failing.close(), hanging.close()]);
    }
  });
});

describe('routing', () => {
  it('takes the target from a label, a fixed route target, or the default; refuses unknown targets', () => {
    expect(
      routeAlert(alert('firing', { alertname: 'PostfixQueueBacklog', target: 'prod' }), routing),
    ).toEqual({ kind: 'run', runbook: 'queueBacklog', target: 'prod' });
    expect(routeAlert(alert('firing', { alertname: 'PostfixQueueBacklog' }), routing)).toEqual({
      kind: 'run',
      runbook: 'queueBacklog',
      target: 'lab',
    });
    expect(routeAlert(alert('firing', { alertname: 'RelayDown', target: 'lab' }), routing)).toEqual({
      kind: 'run',
      runbook: 'relayUnresponsive',
      target: 'prod',
    });
    expect(
      routeAlert(alert('firing', { alertname: 'PostfixQueueBacklog', target: 'evil;rm' }), routing),
    ).toMatchObject({ kind: 'unrouted' });
  });
});
