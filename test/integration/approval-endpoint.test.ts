/**
 * The receiver's approval endpoint against a real Temporal dev server and the engine fixture, with the real
 * proof check on the worker (verifyDecisionProof) and a config where unsigned decisions do not count: the
 * page shows the request to an approver with a good token, the POST records a decision signed by the
 * receiver in the approver's name, and bad tokens, forged forms and forms for an older run change nothing.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { verifyDecisionProof } from '../../src/activities/approval.js';
import { temporalApprovalRuns } from '../../src/alerts/approval-runs.js';
import { approvalEndpointFromConfig } from '../../src/alerts/from-config.js';
import { startReceiver, type Receiver } from '../../src/alerts/receiver.js';
import { loadConfig } from '../../src/config/load.js';
import { statusQuery } from '../../src/shared/messages.js';
import { saveHistories } from '../helpers/histories.js';
import { TEST_SECRETS } from '../helpers/secrets.js';
import { startTestWorker, type TestWorker } from '../helpers/test-worker.js';
import { edit, fullRaw } from '../unit/config-fixture.js';
import type { engineFixture } from '../workflows/engine-fixture.js';
import * as fixtureActivities from '../workflows/engine-fixture-activities.js';
import { generateSshKeyPair } from '../../src/transports/ssh-keygen.js';
import { expectApprovedRepair } from '../helpers/fixture-checks.js';

const fixturePath = fileURLToPath(new URL('../workflows/engine-fixture.ts', import.meta.url));
const taskQueue = `approval-endpoint-${randomUUID()}`;
// A known test secret: the histories project proves it never reaches a workflow history.
const TOKEN = TEST_SECRETS.approverToken ?? '';
if (!TOKEN) throw new Error('test/helpers/secrets.ts lost TEST_SECRETS.approverToken');
const { world } = fixtureActivities;

let temporal: TestWorker;
let receiver: Receiver;
let dir = '';
const previousConfig = process.env.MRB_CONFIG;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mrb-approval-endpoint-'));
  await writeFile(join(dir, 'receiver.key'), generateSshKeyPair('ed25519', {}).private, {
    mode: 0o600,
  });
  await writeFile(join(dir, 'alice.token'), `${TOKEN}\n`, { mode: 0o600 });
  let raw = edit(fullRaw(), 'approvers', {
    alice: { token: { file: 'alice.token' } },
    bob: {},
    carol: {},
  });
  raw = edit(raw, 'targets.0.approval.receiverKey', { file: 'receiver.key' });
  const configPath = join(dir, 'mail-runbooks.yaml');
  await writeFile(configPath, stringify(raw));
  // The in-process worker's verifyDecisionProof reads the config file (the receiver key's public half).
  process.env.MRB_CONFIG = configPath;

  temporal = await startTestWorker({
    taskQueue,
    workflowsPath: fixturePath,
    activities: {
      ...fixtureActivities,
      verifyDecisionProof,
      loadTargetPlan: fixtureActivities.makePlan({ allowUnsigned: false, reminderAfterSeconds: 0 }),
    },
  });
  const approval = await approvalEndpointFromConfig(await loadConfig(configPath), dir);
  expect(approval?.approvers.map((a) => a.name)).toEqual(['alice']);
  receiver = await startReceiver({
    host: '127.0.0.1',
    port: 0,
    auth: { bearerToken: 'unused-alertmanager-token' },
    routing: { routes: [], defaultTarget: 'lab', targets: new Set(['lab']) },
    dispatcher: {
      fire: () => Promise.reject(new Error('not used')),
      resolve: () => Promise.reject(new Error('not used')),
    },
    ...(approval && { approval }),
    approvalRuns: temporalApprovalRuns(temporal.env.client),
    log: () => {},
  });
});

afterAll(async () => {
  await receiver?.close();
  if (temporal) await saveHistories(temporal.env.client, 'approval-endpoint', fixturePath);
  await temporal?.stop();
  if (previousConfig === undefined) delete process.env.MRB_CONFIG;
  else process.env.MRB_CONFIG = previousConfig;
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  Object.assign(world, { broken: true, repairs: 0, lookFailures: 0, notifications: [], configError: false });
});

function start(workflowId = `approve-${randomUUID()}`) {
  return temporal.env.client.workflow.start<typeof engineFixture>('engineFixture', {
    taskQueue,
    workflowId,
    args: [{ target: 'lab' }],
  });
}

async function waitForPending(handle: Awaited<ReturnType<typeof start>>) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const status = await handle.query(statusQuery);
    if (status.pending) return status.pending;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('no approval became pending within 20s');
}

const pageUrl = (workflowId: string, request: string, token?: string) =>
  `${receiver.url}/approve/${encodeURIComponent(workflowId)}?request=${encodeURIComponent(request)}${token ? `&token=${encodeURIComponent(token)}` : ''}`;

/** The confirm page's hidden fields (values as the browser would send them). */
function formOf(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g))
    fields[m[1]!] = m[2]!
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&');
  return fields;
}

async function post(workflowId: string, fields: Record<string, string>) {
  const res = await fetch(`${receiver.url}/approve/${encodeURIComponent(workflowId)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, html: await res.text() };
}

describe('approval endpoint', () => {
  it('records an approval signed by the receiver in the name of the token owner', async () => {
    const handle = await start();
    const pending = await waitForPending(handle);

    const unknown = await fetch(pageUrl(handle.workflowId, pending.requestId, 'not-a-token'));
    expect(unknown.status).toBe(401);
    expect(await unknown.text()).not.toContain('the probe');

    const page = await fetch(pageUrl(handle.workflowId, pending.requestId, TOKEN));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Touches: the probe');
    expect(html).toContain(pending.requestId);
    const form = formOf(html);

    expect((await post(handle.workflowId, { ...form, token: 'not-a-token', approved: 'true' })).status).toBe(
      401,
    );
    expect((await post(handle.workflowId, { ...form, csrf: 'forged', approved: 'true' })).status).toBe(403);
    const untouched = await handle.query(statusQuery);
    expect(untouched.decisions).toEqual([]);
    expect(untouched.refused).toEqual([]);
    expect(untouched.pending?.requestId).toBe(pending.requestId);

    const done = await post(handle.workflowId, { ...form, approved: 'true', comment: 'checked the probe' });
    expect(done.status).toBe(200);
    expect(done.html).toContain('Approved repair');
    const report = await handle.result();
    expectApprovedRepair(report, {
      request: pending.requestId,
      by: 'alice',
      comment: 'checked the probe',
      via: 'update',
      authentication: 'signed-receiver',
    });
  });

  it('refuses a form shown for an earlier run under the same workflow id', async () => {
    const workflowId = `approve-${randomUUID()}`;
    const first = await start(workflowId);
    const firstPending = await waitForPending(first);
    const form = formOf(await (await fetch(pageUrl(workflowId, firstPending.requestId, TOKEN))).text());
    expect(form.runId).toBe(first.firstExecutionRunId);
    await first.terminate('replaced by a newer run');

    const second = await start(workflowId);
    await waitForPending(second);
    const stale = await post(workflowId, { ...form, approved: 'true' });
    expect(stale.status).toBe(409);
    expect(stale.html).toContain(`this page was for run ${first.firstExecutionRunId}`);
    const status = await second.query(statusQuery);
    expect(status.decisions).toEqual([]);
    expect(status.pending).toBeDefined();
    expect(world.repairs).toBe(0);
    await second.terminate('test over');
  });
});
