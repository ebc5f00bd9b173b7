/**
 * No secret anywhere, end to end on the lab. A password is planted in the mail server's main.cf as a
 * `static:` password table (after the real table, so mail still flows), and the notification webhook is a
 * secret URL whose path is a token; for one run it also carries credentials, which fetch refuses (its error
 * quotes the URL). Then the runbooks run (one started by an alert through the receiver), and neither
 * secret may appear in: the workflow histories, the runs' descriptions (memo, search attributes, summary
 * and details the UI shows), the worker's log, the receiver's log, the CLI's output (`show --json`
 * included) or the notification bodies. The planted table must be seen (redacted) in the evidence, so a
 * clean scan means something. Run under the lab lock.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { temporalDispatcher } from '../../src/alerts/dispatch.js';
import type { Receiver } from '../../src/alerts/receiver.js';
import { startTestReceiver, webhookBody } from '../helpers/receiver.js';
import { FAULTS, healFault } from '../../src/lab/faults.js';
import type { RunbookReport } from '../../src/shared/types.js';
import { runWorkflowId } from '../../src/temporal/start-run.js';
import { inProcessCli } from '../helpers/cli.js';
import { ensureLab, inLab, type Lab } from '../helpers/lab.js';
import { runbookHarness, stepsOf, type RunbookHarness } from '../helpers/runbooks.js';
import { knownSecrets, searchableHistory, TEST_SECRETS } from '../helpers/secrets.js';

const PLANTED = TEST_SECRETS.plantedSaslPassword!;
const TOKEN = TEST_SECRETS.webhookToken!;
const HOOK_PASSWORD = TEST_SECRETS.webhookPassword!;
const RECEIVER_TOKEN = TEST_SECRETS.receiverToken!;
const RUN_TIMEOUT_MS = 240_000;

const workerLog: string[] = [];
const receiverLog: string[] = [];
const notificationBodies: string[] = [];
const workflowIds: string[] = [];

let lab: Lab;
let h: RunbookHarness;
let receiver: Receiver;
let webhook: Server;
let webhookPort: number;
let originalMaps: string;
let configPath: string;
let webhookFile: string;

const setWebhookUrl = (url: string) => writeFile(webhookFile, url, { mode: 0o600 });

beforeAll(async () => {
  // Every worker log line, to scan (Temporal's logger; the worker runs in this process).
  Runtime.install({
    logger: new DefaultLogger('DEBUG', (entry) =>
      workerLog.push(`${entry.level} ${entry.message} ${JSON.stringify(entry.meta ?? {})}`),
    ),
  });
  lab = await ensureLab();
  for (const fault of FAULTS) await healFault(lab.ctx, fault);

  originalMaps = (
    await inLab(lab, 'mailserver', ['postconf', '-h', 'smtp_sasl_password_maps'])
  ).stdout.trim();
  expect(originalMaps, 'the lab relays with a SASL table').not.toBe('');
  await inLab(lab, 'mailserver', [
    'postconf',
    '-e',
    `smtp_sasl_password_maps = ${originalMaps}, static:relayuser:${PLANTED}`,
  ]);
  await inLab(lab, 'mailserver', ['postfix', 'reload']);

  webhook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      notificationBodies.push(body); // the body only: the request's path is the webhook URL itself
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((ok) => webhook.listen(0, '127.0.0.1', ok));
  webhookPort = (webhook.address() as { port: number }).port;

  const id = randomUUID();
  webhookFile = join(lab.ctx.paths.dir, `secrets-test-webhook-${id}`);
  await setWebhookUrl(`http://127.0.0.1:${webhookPort}/services/${TOKEN}`);
  const config = parse(await readFile(lab.up.config, 'utf8')) as Record<string, unknown>;
  config.notifications = {
    ...(config.notifications as object | undefined),
    webhook: { url: { file: webhookFile } },
  };
  configPath = join(lab.ctx.paths.dir, `secrets-test-${id}.yaml`);
  await writeFile(configPath, stringify(config), { mode: 0o600 });

  h = await runbookHarness(configPath);
  receiver = await startTestReceiver({
    token: RECEIVER_TOKEN,
    targets: ['lab'],
    routes: { RelayRoutingSuspect: 'relayRoutingCheck' },
    dispatcher: temporalDispatcher(h.env.client, { taskQueue: h.taskQueue }),
    logTo: receiverLog,
  });
});

afterAll(async () => {
  if (originalMaps) {
    await inLab(lab, 'mailserver', ['postconf', '-e', `smtp_sasl_password_maps = ${originalMaps}`]);
    await inLab(lab, 'mailserver', ['postfix', 'reload']);
  }
  await receiver?.close();
  await new Promise<void>((ok) => (webhook ? webhook.close(() => ok()) : ok()));
  await h?.teardown('secrets');
  process.env.MRB_CONFIG = lab?.up.config;
  for (const file of [configPath, webhookFile]) if (file) await rm(file, { force: true });
});

async function finished(workflowId: string): Promise<RunbookReport> {
  workflowIds.push(workflowId);
  const result = h.env.client.workflow.getHandle(workflowId).result() as Promise<RunbookReport>;
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`${workflowId} did not finish in time`)), RUN_TIMEOUT_MS),
  );
  return Promise.race([result, timeout]);
}

async function startAndFinish(runbook: string): Promise<RunbookReport> {
  const handle = await h.start(runbook, { target: 'lab' });
  return finished(handle.workflowId);
}

describe('no secret anywhere', () => {
  it('a static: password in main.cf and a webhook URL token reach no history, log, CLI output, UI detail or notification', async () => {
    // A run started by an alert, through the receiver.
    const alert = {
      status: 'firing' as const,
      labels: { alertname: 'RelayRoutingSuspect', target: 'lab' },
      annotations: {},
      startsAt: new Date().toISOString(),
      fingerprint: 'secrets-test',
    };
    const posted = await fetch(`${receiver.url}/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${RECEIVER_TOKEN}`, 'content-type': 'application/json' },
      body: webhookBody([alert]),
    });
    expect(posted.status).toBe(200);
    const routing = await finished(runWorkflowId('relayRoutingCheck', 'lab'));
    const route = routing.steps.find((s) => s.name === 'relay-route');
    // The planted table was read, and hidden: the scan below is not vacuous.
    expect(JSON.stringify(route?.evidence), stepsOf(routing)).toContain('static:<redacted>');

    const reports = [routing];
    for (const runbook of ['statusCheck', 'queueBacklog', 'openRelayAudit'])
      reports.push(await startAndFinish(runbook));
    // A webhook URL with credentials: fetch refuses it, and its error would quote the URL.
    await setWebhookUrl(`http://hookuser:${HOOK_PASSWORD}@127.0.0.1:${webhookPort}/services/${TOKEN}`);
    reports.push(await startAndFinish('statusCheck'));
    expect(workerLog.some((l) => /notification channel failed/.test(l))).toBe(true);
    for (const r of reports) expect(r.verdict, `${r.runbook}: ${stepsOf(r)}`).not.toBe('failed');
    expect(notificationBodies.length).toBeGreaterThan(0);

    const cli = await inProcessCli(h.env, h.taskQueue);
    const texts: Array<[string, string]> = [];
    for (const id of workflowIds) {
      for (const args of [
        ['show', id, '--json'],
        ['show', id],
      ]) {
        const out = await cli(...args);
        texts.push([`cli ${args.join(' ')}`, `${out.stdout}\n${out.stderr}`]);
      }
      const handle = h.env.client.workflow.getHandle(id);
      const history = JSON.stringify(historyToJSON(await handle.fetchHistory()));
      texts.push([`history ${id}`, searchableHistory(history)]);
      const description = await handle.describe();
      texts.push([
        `description (UI) ${id}`,
        JSON.stringify(description.raw) + JSON.stringify(description.memo ?? {}),
      ]);
    }
    for (const args of [
      ['list', '--json'],
      ['audit', '--json'],
    ]) {
      const out = await cli(...args);
      texts.push([`cli ${args.join(' ')}`, `${out.stdout}\n${out.stderr}`]);
    }
    texts.push(['worker log', workerLog.join('\n')]);
    texts.push(['receiver log', receiverLog.join('\n')]);
    texts.push(['notification bodies', notificationBodies.join('\n')]);

    const secrets = [
      { name: 'planted static: password', value: PLANTED },
      { name: 'webhook token', value: TOKEN },
      { name: 'webhook password', value: HOOK_PASSWORD },
      ...knownSecrets(),
    ];
    const leaks = texts.flatMap(([where, text]) =>
      secrets.filter((s) => text.includes(s.value)).map((s) => `${s.name} in ${where}`),
    );
    expect(leaks).toEqual([]);
  });
});
