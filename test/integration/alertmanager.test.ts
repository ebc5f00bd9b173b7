/**
 * End to end with Debian's real Alertmanager: an alert posted to its API goes through the webhook receiver
 * of monitoring/alertmanager.yml (a copy with only the URL, the token file and the timings changed) to our
 * receiver, which starts the runbook once however often Alertmanager repeats it; the resolved alert reaches
 * the running workflow, which re-checks before the remediation waiting for approval. Bad input to the
 * receiver starts nothing. The runbook is the engine fixture on its own task queue: no lab needed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { temporalDispatcher } from '../../src/alerts/dispatch.js';
import type { Receiver } from '../../src/alerts/receiver.js';
import { startTestReceiver, webhookBody } from '../helpers/receiver.js';
import { runWorkflowId } from '../../src/temporal/start-run.js';
import { statusQuery } from '../../src/shared/messages.js';
import { saveHistories } from '../helpers/histories.js';
import { freePort } from '../helpers/ports.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { startTestWorker, type TestWorker } from '../helpers/test-worker.js';
import type { engineFixture } from '../workflows/engine-fixture.js';
import * as fixtureActivities from '../workflows/engine-fixture-activities.js';

const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
const AMTOOL = '/usr/bin/amtool';
const SHIPPED_CONFIG = fileURLToPath(new URL('../../monitoring/alertmanager.yml', import.meta.url));
const fixturePath = fileURLToPath(new URL('../workflows/engine-fixture.ts', import.meta.url));
const taskQueue = `alerts-${randomUUID()}`;
// A known test secret: the histories project proves it never reaches a workflow history.
const TOKEN = TEST_SECRETS.receiverToken ?? '';
if (!TOKEN) throw new Error('test/helpers/secrets.ts lost TEST_SECRETS.receiverToken');
const RUNBOOK = 'engineFixture';
const workflowId = runWorkflowId(RUNBOOK, 'lab');
const alertLabels = {
  alertname: 'PostfixQueueBacklog',
  target: 'lab',
  severity: 'warning',
  automation: 'mail-runbooks',
};

let temporal: TestWorker;
let receiver: Receiver;
let alertmanager: ChildProcess | undefined;
let alertmanagerUrl: string;
let tmp: string;
const amOutput: string[] = [];
const receiverLog: string[] = [];

/** The parts of alertmanager.yml the test changes. */
interface AlertmanagerConfig {
  route: { routes: { receiver: string; [key: string]: unknown }[] };
  receivers: {
    name: string;
    webhook_configs?: { url: string; http_config: { authorization: { credentials_file: string } } }[];
  }[];
}

/** The shipped config with the test's receiver URL, token file and short timings; nothing else changed. */
async function derivedConfig(receiverUrl: string, tokenFile: string): Promise<string> {
  const config = parse(await readFile(SHIPPED_CONFIG, 'utf8')) as AlertmanagerConfig;
  const route = config.route.routes.find((r) => r.receiver === 'mail-runbooks');
  const webhook = config.receivers.find((r) => r.name === 'mail-runbooks')?.webhook_configs?.[0];
  if (!route || !webhook) throw new Error(`${SHIPPED_CONFIG} has no mail-runbooks route or webhook`);
  Object.assign(route, { group_wait: '1s', group_interval: '1s', repeat_interval: '2s' });
  webhook.url = `${receiverUrl}/alerts`;
  webhook.http_config.authorization.credentials_file = tokenFile;
  return stringify(config);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `timed out after ${ms} ms waiting for ${what}\nreceiver:\n${receiverLog.join('\n')}\n` +
      `alertmanager:\n${amOutput.join('').slice(-4000)}`,
  );
}

/** A metric sample of the receiver, 0 when absent. */
async function metric(name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${receiver.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}} ` : `${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

async function workflowIds(): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of temporal.env.client.workflow.list()) ids.push(wf.workflowId);
  return ids;
}

async function postToAlertmanager(endsAt?: string): Promise<void> {
  const res = await fetch(`${alertmanagerUrl}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([
      {
        labels: alertLabels,
        annotations: { summary: 'Postfix queue backlog on lab' },
        startsAt,
        ...(endsAt ? { endsAt } : {}),
        generatorURL: 'http://127.0.0.1:9090/graph',
      },
    ]),
  });
  expect(res.status, await res.text()).toBe(200);
}
const startsAt = new Date(Date.now() - 60_000).toISOString();

beforeAll(async () => {
  for (const binary of [ALERTMANAGER, AMTOOL]) {
    if (!existsSync(binary))
      throw new Error(`${binary} is missing: apt-get install prometheus-alertmanager (.ci/run does)`);
  }
  temporal = await startTestWorker({
    taskQueue,
    workflowsPath: fixturePath,
    activities: {
      ...fixtureActivities,
      // Long enough that the run waits for approval for the whole test.
      loadTargetPlan: fixtureActivities.makePlan({ timeoutSeconds: 300, reminderAfterSeconds: 240 }),
    },
  });
  Object.assign(fixtureActivities.world, { broken: true, repairs: 0, lookFailures: 0, configError: false });

  receiver = await startTestReceiver({
    token: TOKEN,
    targets: ['lab', 'other'],
    routes: { PostfixQueueBacklog: RUNBOOK },
    dispatcher: temporalDispatcher(temporal.env.client, { taskQueue }),
    maxBodyBytes: 16 * 1024,
    logTo: receiverLog,
  });

  tmp = await mkdtemp(join(tmpdir(), 'mrb-alertmanager-'));
  const tokenFile = join(tmp, 'token');
  await writeFile(tokenFile, TOKEN, { mode: 0o600 });
  await chmod(tokenFile, 0o600);
  const configFile = join(tmp, 'alertmanager.yml');
  await writeFile(configFile, await derivedConfig(receiver.url, tokenFile));
  const check = spawnSync(AMTOOL, ['check-config', configFile], { encoding: 'utf8', timeout: 20_000 });
  expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);

  const port = await freePort();
  alertmanagerUrl = `http://127.0.0.1:${port}`;
  alertmanager = spawn(
    ALERTMANAGER,
    [
      `--config.file=${configFile}`,
      `--storage.path=${join(tmp, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  alertmanager.stdout?.on('data', (d: Buffer) => amOutput.push(d.toString()));
  alertmanager.stderr?.on('data', (d: Buffer) => amOutput.push(d.toString()));
  await until('Alertmanager to be ready', async () => {
    if (alertmanager?.exitCode !== null) throw new Error(`alertmanager exited:\n${amOutput.join('')}`);
    const ok = await fetch(`${alertmanagerUrl}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    return ok || undefined;
  });
});

afterAll(async () => {
  if (alertmanager && alertmanager.exitCode === null) {
    const exited = new Promise((r) => alertmanager?.once('exit', r));
    alertmanager.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (alertmanager.exitCode === null) alertmanager.kill('SIGKILL');
  }
  await receiver?.close();
  if (temporal) await saveHistories(temporal.env.client, 'alertmanager', fixturePath);
  await temporal?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function backlogWebhook(extra: Record<string, unknown> = {}, labels: Record<string, string> = {}): string {
  return webhookBody(
    [{ status: 'firing', labels: { ...alertLabels, target: 'other', ...labels }, annotations: {}, startsAt }],
    { groupKey: '{}:{alertname="PostfixQueueBacklog"}', ...extra },
  );
}

describe('Alertmanager to the receiver to Temporal', () => {
  it.each([
    [
      'a wrong token',
      { authorization: 'Bearer wrong' },
      backlogWebhook(),
      401,
      /credentials/,
      'unauthorized',
    ],
    ['no credentials', { authorization: '' }, backlogWebhook(), 401, /credentials/, 'unauthorized'],
    ['bad JSON', {}, '{"version": "4", "alerts": [', 400, /not JSON/, 'not-json'],
    ['a wrong version', {}, backlogWebhook({ version: '3' }), 400, /version/, 'invalid-body'],
    [
      'too big a body',
      {},
      backlogWebhook({}, { pad: 'x'.repeat(20 * 1024) }),
      413,
      /larger than 16384 bytes/,
      'too-large',
    ],
  ])(
    'answers %s with a 4xx and a message, and starts nothing',
    async (_what, headers, body, status, message, reason) => {
      const before = await metric('mrb_alerts_rejected_total', `reason="${reason}"`);
      const res = await fetch(`${receiver.url}/alerts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
        body,
      });
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
      expect(await metric('mrb_alerts_rejected_total', `reason="${reason}"`)).toBe(before + 1);
      expect(await workflowIds()).toEqual([]);
    },
  );

  it('a firing alert starts the runbook once; repeat notifications start nothing new', async () => {
    await postToAlertmanager();
    await until('the run to start', async () =>
      (await metric('mrb_runs_started_total', `runbook="${RUNBOOK}"`)) === 1 ? true : undefined,
    );
    const handle = temporal.env.client.workflow.getHandle<typeof engineFixture>(workflowId);
    await until('the run to wait for approval of the repair', async () => {
      const status = await handle.query(statusQuery);
      return status.pending?.step === 'repair' ? status : undefined;
    });

    // Prometheus re-sends a firing alert on every evaluation, and Alertmanager repeats the notification.
    await postToAlertmanager();
    await until(
      'two repeat notifications',
      async () => ((await metric('mrb_alerts_deduplicated_total')) >= 2 ? true : undefined),
      20_000,
    );
    expect(await metric('mrb_runs_started_total', `runbook="${RUNBOOK}"`)).toBe(1);
    expect(await metric('mrb_alerts_received_total', 'status="firing"')).toBeGreaterThanOrEqual(3);
    expect(await workflowIds()).toEqual([workflowId]);
    expect(receiverLog.filter((l) => l.endsWith(`: started (${workflowId})`))).toHaveLength(1);
    const described = await handle.describe();
    expect(described.status.name).toBe('RUNNING');
    expect(described.taskQueue).toBe(taskQueue);
  });

  it('the resolved alert reaches the run, which re-checks at once, withdraws the request and changes nothing', async () => {
    const handle = temporal.env.client.workflow.getHandle<typeof engineFixture>(workflowId);
    fixtureActivities.world.broken = false; // the queue drained by itself
    await postToAlertmanager(new Date(Date.now() - 1_000).toISOString());
    // Nobody approves: the run closes itself.
    const report = await handle.result();
    expect(report.alertResolved).toBe(true);
    expect(await metric('mrb_alerts_resolved_delivered_total')).toBeGreaterThanOrEqual(1);
    expect(await metric('mrb_alerts_received_total', 'status="resolved"')).toBeGreaterThanOrEqual(1);
    expect(report.decisions.map((d) => d.via)).toEqual(['alert-resolved']);
    expect(report.verdict).toBe('healthy');
    expect(report.steps.find((s) => s.name === 'repair')?.verdict).toBe('skipped');
    expect(fixtureActivities.world.repairs).toBe(0);
    expect(await workflowIds()).toEqual([workflowId]);
  });
});
