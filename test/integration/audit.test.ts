/**
 * `mail-runbooks audit` on a real Temporal dev server, with a worker running the engine fixture (its
 * `repair` step awaits approval) as `queueBacklog`: one run approved through the CLI, one rejected, one
 * still waiting after a Signal for another request was refused. The audit lists all three decisions from
 * the runs' reports and live status, newest first, with their channel and authentication; --target,
 * --since and --limit narrow it.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/cli/audit.js';
import type { RunView } from '../../src/cli/run-state.js';
import { approveSignal } from '../../src/shared/messages.js';
import { inProcessCli, type Cli } from '../helpers/cli.js';
import { startTestWorker, type TestWorker } from '../helpers/test-worker.js';
import * as fixtureActivities from '../workflows/engine-fixture-activities.js';
import { pollUntil } from '../helpers/poll.js';

const { world } = fixtureActivities;
const taskQueue = `audit-${randomUUID()}`;
const workflowsPath = fileURLToPath(new URL('../helpers/cli-workflows.ts', import.meta.url));

let temporal: TestWorker;
let cli: Cli;

async function cliJson<T>(...args: string[]): Promise<T> {
  const r = await cli(...args, '--json');
  expect(r, r.stderr).toMatchObject({ code: 0 });
  return JSON.parse(r.stdout) as T;
}

/** Starts the fixture on `target` and returns its id and pending request once it awaits approval. */
async function pendingRun(target: string): Promise<{ id: string; runId: string; request: string }> {
  const { workflowId: id } = await cliJson<{ workflowId: string }>(
    'start',
    'queueBacklog',
    '--target',
    target,
  );
  return pollUntil(20_000, `${id} awaiting approval`, async () => {
    const view = await cliJson<RunView>('show', id);
    const request = view.status?.pending?.requestId;
    return request ? { id, runId: view.runId, request } : undefined;
  });
}

const ended = (id: string) =>
  pollUntil(20_000, `${id} ended`, async () =>
    (await cliJson<RunView>('show', id)).report ? true : undefined,
  );

beforeAll(async () => {
  temporal = await startTestWorker({
    taskQueue,
    workflowsPath,
    activities: {
      ...fixtureActivities,
      loadTargetPlan: (target?: string) => fixtureActivities.makePlan()(target),
    },
  });
  cli = await inProcessCli(temporal.env, taskQueue);
  Object.assign(world, { broken: true, repairs: 0, lookFailures: 0, notifications: [], configError: false });
});

afterAll(async () => {
  await temporal?.stop();
});

describe('mail-runbooks audit', () => {
  it('lists approved, rejected and refused decisions across running and closed runs', async () => {
    // All three wait at `repair` before anyone decides: the approved one repairs the shared fixture world.
    const waiting = await pendingRun('audit-waiting');
    const rejected = await pendingRun('audit-rejected');
    const approved = await pendingRun('audit-approved');

    // A Signal for a request that is not pending: ignored, and recorded as refused.
    await temporal.env.client.workflow
      .getHandle(waiting.id)
      .signal(approveSignal, { request: 'repair#99', by: 'mallory' });
    expect(await cli('reject', rejected.id, '--by', 'bob', '--comment', 'not now')).toMatchObject({
      code: 0,
    });
    expect(await cli('approve', approved.id, '--by', 'alice', '--comment', 'go ahead')).toMatchObject({
      code: 0,
    });
    await ended(rejected.id);
    await ended(approved.id);

    const entries = await pollUntil(20_000, 'all three in the audit', async () => {
      const listed = await cliJson<AuditEntry[]>('audit');
      return listed.length >= 3 ? listed : undefined;
    });
    expect(entries).toHaveLength(3);
    const byTarget: Record<string, AuditEntry> = Object.fromEntries(entries.map((e) => [e.target ?? '-', e]));
    expect(byTarget['audit-waiting']).toMatchObject({
      runbook: 'engineFixture',
      workflowId: waiting.id,
      runId: waiting.runId,
      request: 'repair#99',
      outcome: 'refused',
      rule: 'request',
      by: 'mallory',
      via: 'signal',
    });
    expect(byTarget['audit-waiting']?.reason).toEqual(expect.any(String));
    expect(byTarget['audit-waiting']?.authentication).toBeUndefined();
    expect(byTarget['audit-rejected']).toMatchObject({
      workflowId: rejected.id,
      runId: rejected.runId,
      request: rejected.request,
      step: 'repair',
      outcome: 'rejected',
      by: 'bob',
      via: 'update',
      authentication: 'unsigned',
      comment: 'not now',
    });
    expect(byTarget['audit-approved']).toMatchObject({
      workflowId: approved.id,
      runId: approved.runId,
      request: approved.request,
      step: 'repair',
      outcome: 'approved',
      by: 'alice',
      via: 'update',
      authentication: 'unsigned',
      comment: 'go ahead',
    });
    // Newest first: the order they were made in, reversed.
    expect(entries.map((e) => e.target)).toEqual(['audit-approved', 'audit-rejected', 'audit-waiting']);

    // Text: one aligned line per decision under a header.
    const text = await cli('audit');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toBe('');
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^TIME\s+TARGET\s+RUNBOOK\s+RUN\s+REQUEST\s+STEP\s+OUTCOME\s+BY\s+VIA\s+AUTH/);
    expect(lines[1]).toMatch(/audit-approved .* approved\s+alice\s+update\s+unsigned\s+go ahead$/);
    expect(lines[3]).toMatch(/audit-waiting .* refused: request\s+mallory\s+signal\s+-\s+\S/);

    // Filters: the target, the time, the number of runs read.
    expect(await cliJson<AuditEntry[]>('audit', '--target', 'audit-rejected')).toEqual([
      byTarget['audit-rejected'],
    ]);
    expect(await cliJson<AuditEntry[]>('audit', '--runbook', 'engineFixture', '--since', '1h')).toHaveLength(
      3,
    );
    const later = new Date(Date.now() + 60_000).toISOString();
    expect(await cliJson<AuditEntry[]>('audit', '--since', later)).toEqual([]);
    const cut = await cli('audit', '--limit', '1', '--json');
    expect(cut.code).toBe(0);
    expect((JSON.parse(cut.stdout) as AuditEntry[]).length).toBeLessThanOrEqual(1);
    expect(cut.stderr).toMatch(/read the newest 1 runs only \(--limit\)/);

    const bad = await cli('audit', '--target', "lab' OR true");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/target "lab' OR true" has characters/);
    expect((await cli('audit', '--since', 'yesterday')).stderr).toMatch(/--since needs an ISO time/);
    expect((await cli('audit', '--limit', '2001')).stderr).toMatch(
      /--limit needs a whole number from 1 to 2000/,
    );

    // Let the waiting run end (a rejection changes nothing).
    await cli('reject', waiting.id, '--by', 'bob');
    await ended(waiting.id);
  });
});
