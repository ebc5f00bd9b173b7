/**
 * The receiver's approval endpoint: its pages escape what they show, its CSRF tokens bind a form to one
 * approver, run and request, and over real HTTP (a fake in place of Temporal) it authenticates by token,
 * refuses stale or forged forms, and sends decisions signed with the target's receiver key.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApprovalRuns, RunState } from '../../src/alerts/approval-runs.js';
import { approverForToken, confirmPage, createCsrf, escapeHtml } from '../../src/alerts/approval-page.js';
import { startReceiver, type Receiver } from '../../src/alerts/receiver.js';
import { publicKeyLine, readPrivateKey } from '../../src/approval/keys.js';
import { checkProof } from '../../src/approval/signature.js';
import type { DecisionInput } from '../../src/shared/approval.js';
import type { RunbookStatus } from '../../src/shared/types.js';
import { testApprovalPlan } from '../helpers/approval-plan.js';
import { generateSshKeyPair } from '../../src/transports/ssh-keygen.js';

const receiverKey = generateSshKeyPair('ed25519', {});
const approvers = [
  { name: 'alice', token: 'alice-token-0123456789' },
  { name: 'bob', token: 'bob-token-0123456789' },
];
const WORKFLOW = 'queueBacklog.lab';
const REQUEST = 'flush-queue#1.abcdef01';

describe('approval pages', () => {
  it('escape everything they show', () => {
    expect(escapeHtml(`<script>alert("x")</script> & 'y'`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;',
    );
    const html = confirmPage({
      runbook: 'queueBacklog',
      target: 'lab<b>',
      workflowId: 'wf"><script>',
      runId: 'run-1',
      step: 'flush-queue',
      request: 'r"1',
      reason: '<img src=x onerror=alert(1)>',
      brief: 'Command: postqueue -f </pre><script>evil()</script>',
      deadline: '2026-12-01T16:00:00Z',
      approver: 'alice',
      csrf: 'c"srf',
      token: 't"ok<en',
    });
    expect(html).not.toMatch(/<script|<img|<b>/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('Command: postqueue -f &lt;/pre&gt;&lt;script&gt;evil()&lt;/script&gt;');
    expect(html).toContain('action="/approve/wf%22%3E%3Cscript%3E"');
    expect(html).toContain('name="request" value="r&quot;1"');
    expect(html).toContain('name="csrf" value="c&quot;srf"');
    expect(html).toContain('name="token" value="t&quot;ok&lt;en"');
    expect(html).toContain('value="true">Approve</button>');
    expect(html).toContain('value="false">Reject</button>');
  });

  it('leave the token out of the form when it did not come in the link', () => {
    const html = confirmPage({
      runbook: 'r',
      target: 't',
      workflowId: 'w',
      runId: 'run',
      step: 's',
      request: 'q',
      reason: '',
      brief: '',
      deadline: '',
      approver: 'alice',
      csrf: 'c',
    });
    expect(html).not.toContain('name="token"');
  });

  it('CSRF tokens hold only for the approver, run and request they were made for, and this process', () => {
    const csrf = createCsrf();
    const scope = { approver: 'alice', workflowId: WORKFLOW, runId: 'run-1', request: REQUEST };
    const token = csrf.token(scope);
    expect(csrf.check(scope, token)).toBe(true);
    expect(csrf.check({ ...scope, approver: 'bob' }, token)).toBe(false);
    expect(csrf.check({ ...scope, runId: 'run-2' }, token)).toBe(false);
    expect(csrf.check({ ...scope, request: 'flush-queue#2.abcdef01' }, token)).toBe(false);
    expect(csrf.check({ ...scope, workflowId: 'other' }, token)).toBe(false);
    expect(csrf.check(scope, `${token}x`)).toBe(false);
    expect(csrf.check(scope, undefined)).toBe(false);
    expect(createCsrf().check(scope, token)).toBe(false);
  });

  it('tokens name their approver; anything else names nobody', () => {
    expect(approverForToken('bob-token-0123456789', approvers)).toBe('bob');
    expect(approverForToken('bob-token-012345678', approvers)).toBeUndefined();
    expect(approverForToken('', approvers)).toBeUndefined();
    expect(approverForToken(undefined, approvers)).toBeUndefined();
  });
});

function runningStatus(): RunbookStatus {
  return {
    runbook: 'queueBacklog',
    target: 'lab',
    steps: [],
    pending: {
      requestId: REQUEST,
      step: 'flush-queue',
      reason: 'queue <backlog>',
      brief: 'Touches: 120 messages\nCommand: postqueue -f',
      requestedAt: '2026-12-01T15:00:00Z',
      deadline: '2026-12-01T16:00:00Z',
      policy: testApprovalPlan(),
      approvals: [],
    },
    decisions: [],
    refused: [],
    alertResolved: false,
  };
}

let state: RunState;
const sent: { workflowId: string; runId: string; decision: DecisionInput }[] = [];
const runs: ApprovalRuns = {
  async state(workflowId) {
    return workflowId === WORKFLOW ? state : { kind: 'unknown' };
  },
  async decide(workflowId, runId, decision) {
    sent.push({ workflowId, runId, decision });
    if (decision.request !== REQUEST) return { ok: false, reason: 'refused (request): not pending' };
    return {
      ok: true,
      record: {
        request: decision.request,
        step: 'flush-queue',
        approved: decision.approved,
        by: decision.by,
        at: '2026-12-01T15:01:00Z',
        via: 'update',
        authentication: 'signed-receiver',
      },
    };
  },
};

let receiver: Receiver;
let unconfigured: Receiver;
const base = { host: '127.0.0.1', port: 0, auth: { bearerToken: 'alertmanager-token' }, log: () => {} };
const routing = { routes: [], defaultTarget: 'lab', targets: new Set(['lab']) };
const dispatcher = {
  fire: () => Promise.reject(new Error('not used')),
  resolve: () => Promise.reject(new Error('not used')),
};

beforeAll(async () => {
  receiver = await startReceiver({
    ...base,
    routing,
    dispatcher,
    maxBodyBytes: 4096,
    approval: { approvers, receiverKeys: new Map([['lab', receiverKey.private]]) },
    approvalRuns: runs,
  });
  unconfigured = await startReceiver({ ...base, routing, dispatcher, approvalRuns: runs });
});
afterAll(async () => {
  await receiver.close();
  await unconfigured.close();
});
beforeEach(() => {
  state = {
    kind: 'running',
    runId: 'run-1',
    runbook: 'queueBacklog',
    target: 'lab',
    status: runningStatus(),
  };
  sent.length = 0;
});

const pageUrl = (query = `request=${encodeURIComponent(REQUEST)}`, at = receiver.url) =>
  `${at}/approve/${WORKFLOW}?${query}`;

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, html: await res.text(), headers: res.headers };
}

/** The confirm page's hidden fields. */
function formOf(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g))
    fields[m[1]!] = m[2]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  return fields;
}

async function post(fields: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${receiver.url}/approve/${WORKFLOW}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, html: await res.text() };
}

describe('approval endpoint', () => {
  it('shows the pending request to an approver whose token came in the link, escaped', async () => {
    const page = await get(pageUrl(`request=${encodeURIComponent(REQUEST)}&token=alice-token-0123456789`));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.html).toContain('queue &lt;backlog&gt;');
    expect(page.html).toContain('Command: postqueue -f');
    expect(page.html).toContain('2026-12-01T16:00:00Z');
    expect(page.html).toContain('<dd>alice</dd>');
    expect(formOf(page.html)).toMatchObject({
      request: REQUEST,
      runId: 'run-1',
      token: 'alice-token-0123456789',
    });
  });

  it('signs an approval as the receiver, in the name of the approver the token belongs to', async () => {
    const page = await get(pageUrl(), { authorization: 'Bearer bob-token-0123456789' });
    expect(page.status).toBe(200);
    const form = formOf(page.html);
    expect(form.token).toBeUndefined();
    const done = await post(
      { ...form, approved: 'true', comment: '  looks right  ' },
      { authorization: 'Bearer bob-token-0123456789' },
    );
    expect(done.status).toBe(200);
    expect(done.html).toContain('Approved flush-queue (request flush-queue#1.abcdef01)');
    expect(sent).toHaveLength(1);
    const { decision, runId } = sent[0]!;
    expect(runId).toBe('run-1');
    expect(decision).toMatchObject({
      request: REQUEST,
      runId: 'run-1',
      approved: true,
      by: 'bob',
      comment: 'looks right',
      proof: { kind: 'signed-receiver' },
    });
    const read = readPrivateKey(receiverKey.private);
    if (!read.ok) throw new Error(read.problem);
    const fields = {
      workflowId: WORKFLOW,
      runId: 'run-1',
      request: REQUEST,
      step: 'flush-queue',
      approved: true,
      by: 'bob',
      signedAt: decision.proof!.signedAt,
    };
    const keys = { approverPublicKeys: [], receiverPublicKey: publicKeyLine(read.key) };
    expect(checkProof(fields, decision.proof!, keys, new Date())).toEqual({ ok: true });
    expect(checkProof({ ...fields, by: 'alice' }, decision.proof!, keys, new Date())).toMatchObject({
      ok: false,
    });
  });

  it('refuses a missing or unknown token with 401 and no detail, and decides nothing', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }] as Record<string, string>[]) {
      const page = await get(pageUrl(), headers);
      expect(page.status).toBe(401);
      expect(page.html).not.toContain('Command');
    }
    const form = formOf((await get(pageUrl(), { authorization: 'Bearer alice-token-0123456789' })).html);
    expect((await post({ ...form, approved: 'true', token: 'alice-token-012345678' })).status).toBe(401);
    expect(sent).toHaveLength(0);
  });

  it('refuses a form with a bad CSRF token, or one made for another approver (403)', async () => {
    const form = formOf((await get(pageUrl(), { authorization: 'Bearer alice-token-0123456789' })).html);
    const bad = await post({ ...form, csrf: 'forged', approved: 'true', token: 'alice-token-0123456789' });
    expect(bad.status).toBe(403);
    const other = await post({ ...form, approved: 'true', token: 'bob-token-0123456789' });
    expect(other.status).toBe(403);
    expect(sent).toHaveLength(0);
  });

  it('refuses a form for a run that is no longer the running one', async () => {
    const auth = { authorization: 'Bearer alice-token-0123456789' };
    const form = formOf((await get(pageUrl(), auth)).html);
    state = { ...state, runId: 'run-2' } as RunState;
    const done = await post({ ...form, approved: 'true' }, auth);
    expect(done.status).toBe(409);
    expect(done.html).toContain('this page was for run run-1; run run-2 is the one running');
    expect(sent).toHaveLength(0);
  });

  it('says when the request is not pending (409), or the run is unknown (404)', async () => {
    const auth = { authorization: 'Bearer alice-token-0123456789' };
    const other = await get(pageUrl('request=flush-queue%232.abcdef01'), auth);
    expect(other.status).toBe(409);
    expect(other.html).toContain('the pending request is flush-queue#1.abcdef01');
    state = { kind: 'ended', runId: 'run-1', execution: 'COMPLETED' };
    expect((await get(pageUrl(), auth)).status).toBe(409);
    expect((await get(`${receiver.url}/approve/nope?request=x`, auth)).status).toBe(404);
  });

  it('shows the workflow reason when it refuses the decision', async () => {
    const auth = { authorization: 'Bearer alice-token-0123456789' };
    // A request the fake workflow refuses (as the gate refuses one that is no longer pending).
    const running = state as Extract<RunState, { kind: 'running' }>;
    running.status.pending!.requestId = 'flush-queue#2.abcdef01';
    const form = formOf((await get(pageUrl('request=flush-queue%232.abcdef01'), auth)).html);
    const refused = await post({ ...form, approved: 'false' }, auth);
    expect(refused.status).toBe(409);
    expect(refused.html).toContain('refused (request): not pending');
    expect(sent).toHaveLength(1);
  });

  it('rejects other methods (405), oversized bodies (413), bad values (400)', async () => {
    const res = await fetch(pageUrl(), { method: 'PUT' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST');
    const big = await post({ request: REQUEST, runId: 'run-1', comment: 'x'.repeat(5000) });
    expect(big.status).toBe(413);
    const auth = { authorization: 'Bearer alice-token-0123456789' };
    const form = formOf((await get(pageUrl(), auth)).html);
    expect((await post({ ...form, approved: 'yes' }, auth)).status).toBe(400);
    expect((await post({ ...form, approved: 'true', comment: 'x'.repeat(501) }, auth)).status).toBe(400);
    expect(sent).toHaveLength(0);
  });

  it('answers 404 "not configured" without approvers with a token and a receiver key', async () => {
    const page = await get(pageUrl(undefined, unconfigured.url), {
      authorization: 'Bearer alice-token-0123456789',
    });
    expect(page.status).toBe(404);
    expect(page.html).toContain('the approval endpoint is not configured');
  });

  it('counts requests by outcome in the metrics', async () => {
    await get(pageUrl(), { authorization: 'Bearer nope' });
    const metrics = await (await fetch(`${receiver.url}/metrics`)).text();
    expect(metrics).toMatch(/mrb_approval_requests_total\{outcome="unauthorized"\} \d+/);
  });
});
