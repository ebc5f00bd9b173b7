/** Notification rendering and the webhook channel against a real local HTTP sink (failing, then not). */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver } from '../../src/notify/channels.js';
import { renderNotification, type NotificationEvent } from '../../src/notify/message.js';

const event: NotificationEvent = {
  kind: 'approval-requested',
  runbook: 'queueBacklog',
  target: 'lab',
  workflowId: 'mrb.queueBacklog.lab',
  runId: 'run-1',
  step: 'flush-queue',
  request: 'flush-queue#1.abcdef01',
  brief: 'Touches: every queued message (120 now) is retried at once\nCommand: postqueue -f',
  summary: 'flush-queue: 120 deferred messages; the relay answers',
};

let sink: Server;
let sinkUrl = '';
let failuresLeft = 0;
const received: Array<{ text: string }> = [];

beforeAll(async () => {
  sink = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (failuresLeft > 0) {
        failuresLeft--;
        res.writeHead(500).end();
        return;
      }
      received.push(JSON.parse(body) as { text: string });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const address = sink.address();
  sinkUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hooks/secret-path-token`;
});
afterAll(() => new Promise<void>((r) => sink.close(() => r())));

describe('notifications', () => {
  it('carry the evidence summary, the exact command and the UI link', () => {
    const message = renderNotification(event, { baseUrl: 'http://127.0.0.1:8233', namespace: 'default' });
    expect(message.subject).toBe('[mail-runbooks] Approval needed: queueBacklog on lab (flush-queue)');
    expect(message.text).toContain('120 deferred messages');
    expect(message.text).toContain(
      "mail-runbooks approve mrb.queueBacklog.lab --run run-1 --request 'flush-queue#1.abcdef01' --by <your-name>",
    );
    expect(message.text).toContain('Request: flush-queue#1.abcdef01');
    expect(message.text).toContain('Touches: every queued message');
    expect(message.uiUrl).toBe(
      'http://127.0.0.1:8233/namespaces/default/workflows/mrb.queueBacklog.lab/run-1',
    );
  });

  it("link to the receiver's approval page when its public URL is known, never with a token", () => {
    const link = 'https://runbooks.example.org/approve/mrb.queueBacklog.lab?request=flush-queue%231.abcdef01';
    const message = renderNotification(event, undefined, 'https://runbooks.example.org/');
    expect(message.approvalUrl).toBe(link);
    expect(message.text).toContain(`Decide in the browser (add &token=<your token>): ${link}`);
    expect(renderNotification(event).approvalUrl).toBeUndefined();
    const finished = renderNotification(
      { ...event, kind: 'finished' },
      undefined,
      'https://runbooks.example.org',
    );
    expect(finished.approvalUrl).toBeUndefined();
    expect(finished.text).not.toContain('/approve/');
  });

  it('retry a failing webhook, then deliver Slack-compatible JSON', async () => {
    failuresLeft = 2;
    const result = await deliver({ kind: 'webhook', url: sinkUrl }, renderNotification(event), {
      attempts: 3,
      backoffMs: 10,
    });
    expect(result).toMatchObject({ ok: true, attempts: 3 });
    expect(received.at(-1)?.text).toContain('Approval needed');
  });

  it('report a channel that keeps failing without throwing, and without the URL path (it may hold a token)', async () => {
    failuresLeft = 10;
    const result = await deliver({ kind: 'webhook', url: sinkUrl }, renderNotification(event), {
      attempts: 2,
      backoffMs: 10,
    });
    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect(result.error).toContain('HTTP 500');
    expect(result.error).not.toContain('secret-path-token');
    failuresLeft = 0;
  });
});
