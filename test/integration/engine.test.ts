/**
 * The step engine on a real Temporal server: checks, approval by Signal and by Update (with its validator),
 * rejection, timeout to the default, unattended policy, retries, non-retryable config errors, bounded
 * evidence, the status query, search attributes and the alert-resolved re-check.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  alertResolvedSignal,
  approveSignal,
  decideUpdate,
  rejectSignal,
  statusQuery,
} from '../../src/shared/messages.js';
import type { DecisionInput, SignalDecisionInput } from '../../src/shared/approval.js';
import type { RunbookInput, RunbookReport } from '../../src/shared/types.js';
import { AWAITING_APPROVAL } from '../../src/shared/search-attributes.js';
import { saveHistories } from '../helpers/histories.js';
import { startTestWorker, type TestWorker } from '../helpers/test-worker.js';
import type { engineFixture } from '../workflows/engine-fixture.js';
import * as fixtureActivities from '../workflows/engine-fixture-activities.js';
import { expectApprovedRepair } from '../helpers/fixture-checks.js';

const { world } = fixtureActivities;
let temporal: TestWorker;
let planOverrides: Parameters<typeof fixtureActivities.makePlan>[0] = {};
const taskQueue = `engine-${randomUUID()}`;
const fixturePath = fileURLToPath(new URL('../workflows/engine-fixture.ts', import.meta.url));

beforeAll(async () => {
  temporal = await startTestWorker({
    taskQueue,
    workflowsPath: fixturePath,
    activities: {
      ...fixtureActivities,
      loadTargetPlan: (target?: string) => fixtureActivities.makePlan(planOverrides)(target),
    },
  });
});

afterAll(async () => {
  await saveHistories(temporal.env.client, 'engine', fixturePath);
  await temporal?.stop();
});

beforeEach(() => {
  Object.assign(world, { broken: true, repairs: 0, lookFailures: 0, notifications: [], configError: false });
  planOverrides = {};
});

function start(target = 'lab', trigger?: RunbookInput['trigger']) {
  return temporal.env.client.workflow.start<typeof engineFixture>('engineFixture', {
    taskQueue,
    workflowId: `engine-${randomUUID()}`,
    args: [{ target, ...(trigger && { trigger }) }],
  });
}

async function waitForPending(handle: Awaited<ReturnType<typeof start>>) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const status = await handle.query(statusQuery);
    if (status.pending) return status;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('no approval became pending within 20s');
}

describe('step engine', () => {
  it('ends healthy when the check passes, with no approval asked', async () => {
    world.broken = false;
    const report: RunbookReport = await (await start()).result();
    expect(report.verdict).toBe('healthy');
    expect(report.steps.map((s) => s.name)).toEqual(['load-target-plan', 'look']);
    expect(world.repairs).toBe(0);
  });

  it('waits for approval, records the approver, applies the fix once and reports fixed', async () => {
    const handle = await start();
    const status = await waitForPending(handle);
    const pending = status.pending!;
    expect(pending.step).toBe('repair');
    expect(pending.requestId).toMatch(/^repair#1\./);
    expect(pending.brief).toContain('Touches: the probe');
    expect(status.currentStep).toBe('look');
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(AWAITING_APPROVAL)).toBe(true);
    expect(world.notifications.some((n) => n.startsWith('approval-requested: the probe says broken'))).toBe(
      true,
    );
    await handle.signal(approveSignal, { request: pending.requestId, by: 'alice', comment: 'go ahead' });
    const report = await handle.result();
    expectApprovedRepair(report, {
      request: pending.requestId,
      by: 'alice',
      comment: 'go ahead',
      via: 'signal',
      authentication: 'unsigned',
    });
    expect(report.markdown).toContain('approved by alice');
    expect((await handle.describe()).typedSearchAttributes.get(AWAITING_APPROVAL)).toBe(false);
  });

  it('keeps evidence bounded', async () => {
    world.broken = false;
    const report = await (await start()).result();
    expect(JSON.stringify(report.steps[1]?.evidence).length).toBeLessThan(9_000);
    expect(report.steps[1]?.evidence).toMatchObject({ truncated: true });
  });

  it('reject: nothing is changed and the verdict is needs-human', async () => {
    const handle = await start();
    const { pending } = await waitForPending(handle);
    await handle.signal(rejectSignal, { request: pending!.requestId, by: 'bob', comment: 'not now' });
    const report = await handle.result();
    expect(report.verdict).toBe('needs-human');
    expect(report.cause).toContain('not approved (bob: not now)');
    expect(world.repairs).toBe(0);
  });

  it('the Update refuses, with the reason, every decision that does not apply, and returns the one it records', async () => {
    const handle = await start();
    const { pending } = await waitForPending(handle);
    const request = pending!.requestId;
    const { runId } = await handle.describe();
    const refused = async (decision: unknown, reason: RegExp) => {
      const message = await handle.executeUpdate(decideUpdate, { args: [decision as DecisionInput] }).then(
        () => 'accepted',
        (e: unknown) => {
          expect(e).toBeInstanceOf(WorkflowUpdateFailedError);
          return (e as WorkflowUpdateFailedError).cause?.message ?? '';
        },
      );
      expect(message).toMatch(reason);
    };
    // The string "false" a person types into the UI's input box is not false (nor true).
    await refused({ request, approved: 'false', by: 'mallory' }, /"approved" must be true or false/);
    await refused({ request, approved: true }, /"by" must be a name/);
    await refused({ request, approved: true, by: 'a'.repeat(65) }, /"by" must be a name/);
    await refused({ request, approved: true, by: 'eve', comment: 'x'.repeat(501) }, /"comment" must be/);
    await refused({ approved: true, by: 'eve' }, /"request" must name/);
    await refused({ request: 'repair#1.00000000', approved: true, by: 'eve' }, /refused \(request\)/);
    await refused({ request, step: 'other', approved: true, by: 'eve' }, /refused \(step\)/);
    await refused({ request, runId: 'another-run', approved: true, by: 'eve' }, /refused \(run\)/);
    const accepted = await handle.executeUpdate(decideUpdate, {
      args: [{ request, runId, step: 'repair', approved: true, by: 'carol' }],
    });
    expect(accepted).toMatchObject({ request, step: 'repair', by: 'carol', via: 'update', approved: true });
    expect((await handle.result()).verdict).toBe('fixed');
    // No longer pending: refused.
    await expect(
      handle.executeUpdate(decideUpdate, { args: [{ request, approved: true, by: 'dave' }] }),
    ).rejects.toThrow();
  });

  it('Signals that do not apply are ignored and recorded as refused, with the rule they broke', async () => {
    const handle = await start();
    const { pending } = await waitForPending(handle);
    const request = pending!.requestId;
    await handle.signal(approveSignal, { by: 'mallory' } as unknown as SignalDecisionInput); // no request
    await handle.signal(approveSignal, { request, step: 'not-this-one', by: 'mallory' });
    await handle.signal(approveSignal, { request: 'repair#1.deadbeef', by: 'mallory' }); // another run's
    await handle.signal(approveSignal, { request, runId: 'another-run', by: 'mallory' });
    const status = await handle.query(statusQuery);
    expect(status.pending?.step).toBe('repair');
    expect(status.decisions).toHaveLength(0);
    expect(status.refused.map((r) => r.rule)).toEqual(['shape', 'step', 'request', 'run']);
    await handle.signal(rejectSignal, { request, by: 'bob' });
    const report = await handle.result();
    expect(report.verdict).toBe('needs-human');
    // A late click meant for this request, after it was decided, does not carry over.
    expect(report.refused).toHaveLength(4);
  });

  it('who may approve: approvers, four eyes, one vote each, a quorum of distinct approvers', async () => {
    planOverrides = { approvers: ['alice', 'bob', 'carol'], minApprovals: 2 };
    const handle = await start('lab', { kind: 'manual', ref: 'carol' });
    const { pending } = await waitForPending(handle);
    const request = pending!.requestId;
    expect(pending!.policy).toMatchObject({ minApprovals: 2, fourEyes: true });
    const refused = async (by: string, rule: RegExp) => {
      const message = await handle
        .executeUpdate(decideUpdate, { args: [{ request, approved: true, by }] })
        .then(
          () => 'accepted',
          (e: WorkflowUpdateFailedError) => e.cause?.message ?? e.message,
        );
      expect(message).toMatch(rule);
    };
    await refused('eve', /approvers/); // not an approver
    await refused('carol', /fourEyes/); // started the run
    await handle.executeUpdate(decideUpdate, { args: [{ request, approved: true, by: 'alice' }] });
    await refused('alice', /duplicate/); // one vote each
    expect((await handle.query(statusQuery)).pending?.approvals.map((a) => a.by)).toEqual(['alice']);
    expect(world.repairs).toBe(0); // quorum not met yet
    await handle.executeUpdate(decideUpdate, { args: [{ request, approved: true, by: 'bob' }] });
    const report = await handle.result();
    expect(report.verdict).toBe('fixed');
    expect(report.decisions.map((d) => d.by)).toEqual(['alice', 'bob']);
  });

  it('unsigned decisions count only where approval.allowUnsigned is true', async () => {
    planOverrides = { allowUnsigned: false };
    const handle = await start();
    const { pending } = await waitForPending(handle);
    await expect(
      handle.executeUpdate(decideUpdate, {
        args: [{ request: pending!.requestId, approved: true, by: 'alice' }],
      }),
    ).rejects.toThrow(WorkflowUpdateFailedError);
    await handle.signal(approveSignal, { request: pending!.requestId, by: 'alice' });
    const status = await handle.query(statusQuery);
    expect(status.refused.map((r) => r.rule)).toEqual(['unsigned']);
    expect(status.pending?.approvals).toEqual([]);
    await handle.cancel();
  });

  it('no decision: reminder, escalation, then the default (abort) at the timeout', async () => {
    planOverrides = {
      timeoutSeconds: 4,
      reminderAfterSeconds: 1,
      escalateAfterSeconds: 2,
      escalateTo: ['oncall-lead'],
    };
    const report = await (await start()).result();
    expect(report.verdict).toBe('needs-human');
    expect(report.decisions[0]).toMatchObject({ by: 'timeout', via: 'timeout', approved: false });
    expect(world.notifications.filter((n) => n.startsWith('approval-reminder'))).toHaveLength(1);
    expect(world.notifications.filter((n) => n.startsWith('approval-escalated'))).toHaveLength(1);
    expect(world.notifications.find((n) => n.startsWith('approval-escalated'))).toContain('oncall-lead');
    expect(world.repairs).toBe(0);
  });

  it('0 switches reminder and escalation off; a step the policy lists proceeds at the deadline', async () => {
    planOverrides = {
      timeoutSeconds: 2,
      reminderAfterSeconds: 0,
      escalateAfterSeconds: 0,
      proceedOnTimeout: ['repair'],
    };
    const report = await (await start()).result();
    expect(world.notifications.filter((n) => /reminder|escalated/.test(n))).toEqual([]);
    expect(report.decisions[0]).toMatchObject({ by: 'timeout', via: 'timeout', approved: true });
    expect(report.verdict).toBe('fixed');
    expect(world.repairs).toBe(1);
  });

  it('an unattended policy runs the step without approval and records that it did', async () => {
    planOverrides = { unattended: ['repair'] };
    const report = await (await start()).result();
    expect(report.verdict).toBe('fixed');
    expect(report.decisions[0]).toMatchObject({
      step: 'repair',
      by: 'policy',
      via: 'policy',
      approved: true,
    });
  });

  it('its own alert resolved while waiting: re-checked at once, request withdrawn, healthy with nobody involved', async () => {
    const handle = await start('lab', { kind: 'alert', ref: 'fp-1' });
    await waitForPending(handle);
    world.broken = false; // it healed by itself
    await handle.signal(alertResolvedSignal, { fingerprint: 'fp-1' });
    const report = await handle.result();
    expect(report.verdict).toBe('healthy');
    expect(report.steps.find((s) => s.name === 'repair')?.verdict).toBe('skipped');
    expect(report.decisions).toMatchObject([{ via: 'alert-resolved', approved: false }]);
    expect(world.notifications.some((n) => n.startsWith('approval-withdrawn'))).toBe(true);
    expect(world.repairs).toBe(0);
  });

  it('a resolved alert with another fingerprint or route changes nothing; still broken, the request keeps waiting', async () => {
    const handle = await start('lab', { kind: 'alert', ref: 'fp-2', routingKey: 'engineFixture/lab' });
    const { pending } = await waitForPending(handle);
    world.broken = false;
    await handle.signal(alertResolvedSignal, {
      fingerprint: 'someone-else',
      routingKey: 'engineFixture/lab',
    });
    await handle.signal(alertResolvedSignal, { fingerprint: 'fp-2', routingKey: 'engineFixture/elsewhere' });
    expect((await handle.query(statusQuery)).alertResolved).toBe(false);
    world.broken = true;
    await handle.signal(alertResolvedSignal, { fingerprint: 'fp-2', routingKey: 'engineFixture/lab' });
    await new Promise((r) => setTimeout(r, 1_500));
    const status = await handle.query(statusQuery);
    expect(status.alertResolved).toBe(true);
    expect(status.pending?.requestId).toBe(pending!.requestId); // re-checked: still broken, still asking
    await handle.signal(approveSignal, { request: pending!.requestId, by: 'alice' });
    expect((await handle.result()).verdict).toBe('fixed');
    expect(world.repairs).toBe(1);
  });

  it('transient errors are retried; configuration errors fail at once with a clear cause', async () => {
    world.broken = false;
    world.lookFailures = 2;
    expect((await (await start()).result()).verdict).toBe('healthy');
    world.configError = true;
    const report = await (await start()).result();
    expect(report.verdict).toBe('failed');
    expect(report.cause).toContain('relay.ssh.hostKey is missing');
  });
});
