/**
 * Notifications from a real run: the approval request and the final report reach a local webhook sink
 * (Slack-compatible JSON) and, by email through the lab's submission service, a lab mailbox; both carry the
 * evidence summary, the exact CLI command and the UI link. A channel that keeps failing is retried and
 * logged and never fails the run.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { findFault, healFault, injectFault } from '../../src/lab/faults.js';
import { MATERIAL_FILES } from '../../src/lab/material.js';
import { NAMES } from '../../src/lab/settings.js';
import { ensureLab, waitForMail, type Lab } from '../helpers/lab.js';
import { freePort } from '../helpers/ports.js';
import { reject, report, runbookHarness, stepsOf, type RunbookHarness } from '../helpers/runbooks.js';

let lab: Lab;
let h: RunbookHarness;
let sink: Server;
const received: Array<{ text?: string }> = [];
let failing = 0;

async function configWith(notifications: object, name: string): Promise<string> {
  const config = parse(await readFile(lab.up.config, 'utf8')) as Record<string, unknown>;
  const path = join(lab.ctx.paths.dir, name);
  await writeFile(path, stringify({ ...config, notifications }), { mode: 0o600 });
  return path;
}

beforeAll(async () => {
  lab = await ensureLab();
  const port = await freePort();
  sink = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/broken') {
        failing++;
        res.writeHead(503).end('down');
        return;
      }
      received.push(JSON.parse(body) as { text?: string });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => sink.listen(port, '127.0.0.1', r));
  // Secret files: the webhook URL may carry a token, so it is a secret reference like the rest.
  await writeFile(join(lab.ctx.paths.dir, 'secrets/test_webhook_url'), `http://127.0.0.1:${port}/hook\n`, {
    mode: 0o600,
  });
  await writeFile(
    join(lab.ctx.paths.dir, 'secrets/test_broken_webhook_url'),
    `http://127.0.0.1:${port}/broken\n`,
    {
      mode: 0o600,
    },
  );
  const config = await configWith(
    {
      webhook: { url: { file: 'secrets/test_webhook_url' } },
      email: {
        smtp: {
          host: '127.0.0.1',
          port: lab.ports.submission,
          tls: 'starttls',
          ca: { file: MATERIAL_FILES.caCert },
          servername: NAMES.mailHost,
          user: NAMES.canaryUser,
          password: { file: MATERIAL_FILES.canaryPassword },
        },
        from: NAMES.canaryUser,
        to: [NAMES.canaryUser],
      },
      uiBaseUrl: 'http://127.0.0.1:8233',
    },
    'notify-test.yaml',
  );
  h = await runbookHarness(config);
});

afterAll(async () => {
  await healFault(lab.ctx, findFault('relay-down')).catch(() => undefined);
  await h?.teardown('notifications-broken-channel');
  await new Promise((r) => sink?.close(r));
});

describe('notifications', () => {
  it('approval request and final report go to the webhook and by email, with command and UI link', async () => {
    await injectFault(lab.ctx, findFault('relay-down'));
    const handle = await h.start('relayUnresponsive');
    await reject(handle, 'restart-relay-watchdog');
    const r = await report(handle);
    expect(r.verdict, stepsOf(r)).toBe('needs-human');

    const texts = received.map((m) => m.text ?? '');
    const request = texts.find((t) => t.includes('restart-relay-watchdog') && t.includes('approve'));
    expect(request, texts.join('\n---\n')).toBeDefined();
    expect(request).toMatch(
      new RegExp(
        `mail-runbooks approve ${handle.workflowId} --run \\S+ --request 'restart-relay-watchdog#1\\.`,
      ),
    );
    expect(request).toContain('Touches: the relay');
    expect(request).toContain(`http://127.0.0.1:8233/namespaces/default/workflows/${handle.workflowId}`);
    expect(request).toMatch(/relay port 2526 is not listening/);
    expect(texts.some((t) => /needs-human/.test(t))).toBe(true);

    const mail = await waitForMail(lab, 'mail', { body: handle.workflowId }, 60_000);
    expect(mail.subject).toMatch(/\[mail-runbooks\] .*relayUnresponsive on lab/);
  });

  it('a channel that keeps failing is retried and logged; the run is not affected', async () => {
    await healFault(lab.ctx, findFault('relay-down'));
    await h.teardown('notifications');
    h = await runbookHarness(
      await configWith(
        { webhook: { url: { file: 'secrets/test_broken_webhook_url' } } },
        'notify-broken.yaml',
      ),
    );
    const r = await report(await h.start('statusCheck'));
    expect(r.verdict, stepsOf(r)).toBe('healthy');
    expect(failing).toBeGreaterThan(1);
  });
});
