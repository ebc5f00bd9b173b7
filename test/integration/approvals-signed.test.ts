/**
 * Signed CLI decisions against a real Temporal dev server and the engine fixture, with the real proof
 * check on the worker (verifyDecisionProof reads the approvers' public keys from a temporary config) and
 * a plan where unsigned decisions do not count: a decision signed with the approver's own key counts;
 * a forged `by`, a proof replayed on another run, an expired signature, the requester approving their
 * own run and a quorum not yet met do not.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkflowUpdateFailedError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { verifyDecisionProof } from '../../src/activities/approval.js';
import { signDecision } from '../../src/approval/signature.js';
import type { DecisionInput, DecisionRecord } from '../../src/shared/approval.js';
import { decideUpdate, statusQuery } from '../../src/shared/messages.js';
import type { PendingApproval, RunbookInput } from '../../src/shared/types.js';
import { inProcessCli, type Cli } from '../helpers/cli.js';
import { saveHistories } from '../helpers/histories.js';
import { startTestWorker, type TestWorker } from '../helpers/test-worker.js';
import { edit, fullRaw } from '../unit/config-fixture.js';
import type { engineFixture } from '../workflows/engine-fixture.js';
import * as fixtureActivities from '../workflows/engine-fixture-activities.js';
import { generateSshKeyPair } from '../../src/transports/ssh-keygen.js';
import { expectApprovedRepair } from '../helpers/fixture-checks.js';

const fixturePath = fileURLToPath(new URL('../workflows/engine-fixture.ts', import.meta.url));
const taskQueue = `approvals-signed-${randomUUID()}`;
const { world } = fixtureActivities;
/** The plan's target for the quorum case; every other run uses `lab`. */
const QUORUM_TARGET = 'quorum';
const keys = {
  alice: generateSshKeyPair('ed25519', {}),
  bob: generateSshKeyPair('ed25519', {}),
};

let temporal: TestWorker;
let cli: Cli;
let dir = '';
let aliceKeyPath = '';
const previousEnv = { ...process.env };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mrb-approvals-signed-'));
  aliceKeyPath = join(dir, 'alice.key');
  await writeFile(aliceKeyPath, keys.alice.private, { mode: 0o600 });
  let raw = edit(fullRaw(), 'approvers', {
    alice: { publicKeys: [keys.alice.public] },
    bob: { publicKeys: [keys.bob.public] },
    carol: {},
  });
  raw = edit(raw, 'targets.0.approval.allowUnsigned', false);
  const configPath = join(dir, 'mail-runbooks.yaml');
  await writeFile(configPath, stringify(raw));
  // The in-process worker's verifyDecisionProof reads the approvers' public keys from this file.
  process.env.MRB_CONFIG = configPath;

  const signedOnly = { allowUnsigned: false, reminderAfterSeconds: 0, approvers: ['alice', 'bob'] };
  const plans = {
    lab: fixtureActivities.makePlan(signedOnly),
    [QUORUM_TARGET]: fixtureActivities.makePlan({ ...signedOnly, minApprovals: 2 }),
  };
  temporal = await startTestWorker({
    taskQueue,
    workflowsPath: fixturePath,
    activities: {
      ...fixtureActivities,
      verifyDecisionProof,
      loadTargetPlan: (target?: string) => (target === QUORUM_TARGET ? plans.quorum : plans.lab)(target),
    },
  });
  cli = await inProcessCli(temporal.env, taskQueue);
});

afterAll(async () => {
  if (temporal) await saveHistories(temporal.env.client, 'approvals-signed', fixturePath);
  await temporal?.stop();
  for (const name of Object.keys(process.env)) if (!(name in previousEnv)) delete process.env[name];
  Object.assign(process.env, previousEnv);
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  Object.assign(world, { broken: true, repairs: 0, lookFailures: 0, notifications: [], configError: false });
});

type Run = WorkflowHandleWithFirstExecutionRunId<typeof engineFixture>;

function start(input: RunbookInput = { target: 'lab' }): Promise<Run> {
  return temporal.env.client.workflow.start<typeof engineFixture>('engineFixture', {
    taskQueue,
    workflowId: `signed-${randomUUID()}`,
    args: [input],
  });
}

async function waitForPending(handle: Run, approvals = 0): Promise<PendingApproval> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const { pending } = await handle.query(statusQuery);
    if (pending && pending.approvals.length === approvals) return pending;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no approval with ${approvals} approval(s) became pending within 20s`);
}

interface Signing {
  /** Whose private key signs. */
  key: keyof typeof keys;
  by: string;
  signedAt?: Date;
}

/** A decision on the run's pending request, signed as the CLI signs it. */
function signed(handle: Run, pending: PendingApproval, { key, by, signedAt = new Date() }: Signing) {
  const runId = handle.firstExecutionRunId;
  const fields = {
    workflowId: handle.workflowId,
    runId,
    request: pending.requestId,
    step: pending.step,
    approved: true,
    by,
    signedAt: signedAt.toISOString(),
  };
  const decision: DecisionInput = {
    request: pending.requestId,
    runId,
    step: pending.step,
    approved: true,
    by,
    proof: signDecision(fields, keys[key].private),
  };
  return decision;
}

/** Sends a decision through the Update; the refusal's message, or the record when it counted. */
async function send(handle: Run, decision: DecisionInput): Promise<string | DecisionRecord> {
  try {
    return await handle.executeUpdate(decideUpdate, { args: [decision] });
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    return (err as WorkflowUpdateFailedError).cause?.message ?? '';
  }
}

/** Nothing counted: the request is still pending with no approval, and the repair never ran. */
async function expectNothingCounted(handle: Run, requestId: string) {
  const status = await handle.query(statusQuery);
  expect(status.decisions).toEqual([]);
  expect(status.pending?.requestId).toBe(requestId);
  expect(status.pending?.approvals).toEqual([]);
  expect(world.repairs).toBe(0);
  return status;
}

describe('signed CLI decisions', () => {
  it("the CLI signs with the approver's key: the decision counts as signed-cli and the run ends fixed", async () => {
    const handle = await start();
    const pending = await waitForPending(handle);
    const approved = await cli(
      'approve',
      handle.workflowId,
      '--by',
      'alice',
      '--key',
      aliceKeyPath,
      '--comment',
      'checked',
    );
    expect(approved.stderr).toBe('');
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain(`[${pending.requestId}, signed-cli]`);
    const report = await handle.result();
    expectApprovedRepair(report, {
      request: pending.requestId,
      by: 'alice',
      comment: 'checked',
      via: 'update',
      authentication: 'signed-cli',
    });
    expect((await handle.query(statusQuery)).refused).toEqual([]);
  });

  it("refuses a forged `by`: alice's key signing a decision in bob's name", async () => {
    const handle = await start();
    const pending = await waitForPending(handle);
    const refusal = await send(handle, signed(handle, pending, { key: 'alice', by: 'bob' }));
    expect(refusal).toMatch(/^refused \(signature\): .*approver bob/);
    const status = await expectNothingCounted(handle, pending.requestId);
    expect(status.refused).toMatchObject([
      { via: 'update', request: pending.requestId, by: 'bob', approved: true, rule: 'signature' },
    ]);
    await handle.terminate('test over');
  });

  it('refuses a signed decision replayed on another run, as sent or rewritten to fit', async () => {
    const first = await start();
    const firstPending = await waitForPending(first);
    const proofForFirst = signed(first, firstPending, { key: 'alice', by: 'alice' });
    const second = await start();
    const secondPending = await waitForPending(second);

    // As sent: it names the first run's request (and run), which the second run's validator refuses.
    expect(await send(second, proofForFirst)).toMatch(/^refused \(request\): /);
    // Rewritten to name the second run's request and run: the signature no longer matches.
    const rewritten = {
      ...proofForFirst,
      request: secondPending.requestId,
      runId: second.firstExecutionRunId,
    };
    expect(await send(second, rewritten)).toMatch(/^refused \(signature\): /);

    const status = await expectNothingCounted(second, secondPending.requestId);
    // The validator's refusal leaves no trace in the run; the handler's does.
    expect(status.refused).toMatchObject([{ request: secondPending.requestId, rule: 'signature' }]);
    expect((await first.query(statusQuery)).decisions).toEqual([]);
    await first.terminate('test over');
    await second.terminate('test over');
  });

  // Run ids are UUIDv7: their first 8 hex digits are a timestamp that changes only every ~65 s. Request ids
  // once ended in that start, so runs of one step started within a minute shared them; they end in the run
  // id's random end now.
  it('gives runs started one after the other different request ids', async () => {
    const runs: Run[] = [];
    // Bounded: two runs started back to back straddle a 65 s boundary at most once.
    for (let attempt = 0; attempt < 3; attempt++) {
      const [first, second] = [await start(), await start()];
      runs.push(first, second);
      if (first.firstExecutionRunId.slice(0, 8) !== second.firstExecutionRunId.slice(0, 8)) continue;
      const [a, b] = [await waitForPending(first), await waitForPending(second)];
      await Promise.all(runs.map((run) => run.terminate('test over')));
      expect(b.requestId).not.toBe(a.requestId);
      return;
    }
    await Promise.all(runs.map((run) => run.terminate('test over')));
  });

  it('refuses an expired signature (signed properly, 11 minutes ago)', async () => {
    const handle = await start();
    const pending = await waitForPending(handle);
    const signedAt = new Date(Date.now() - 11 * 60_000);
    const refusal = await send(handle, signed(handle, pending, { key: 'alice', by: 'alice', signedAt }));
    expect(refusal).toMatch(/^refused \(signature\): the signature is older than the allowed 10 minutes/);
    const status = await expectNothingCounted(handle, pending.requestId);
    expect(status.refused).toMatchObject([{ by: 'alice', rule: 'signature' }]);
    await handle.terminate('test over');
  });

  it('refuses the requester approving their own run, even when signed (fourEyes)', async () => {
    const handle = await start({ target: 'lab', trigger: { kind: 'manual', ref: 'alice' } });
    const pending = await waitForPending(handle);
    const refusal = await send(handle, signed(handle, pending, { key: 'alice', by: 'alice' }));
    expect(refusal).toMatch(/^refused \(fourEyes\): alice started this run/);
    const status = await expectNothingCounted(handle, pending.requestId);
    expect(status.requester).toBe('alice');
    await handle.terminate('test over');
  });

  it('waits for the quorum: one signed approval of two keeps the request pending, the second fixes', async () => {
    const handle = await start({ target: QUORUM_TARGET });
    const pending = await waitForPending(handle);
    expect(pending.policy.minApprovals).toBe(2);

    expect(await send(handle, signed(handle, pending, { key: 'alice', by: 'alice' }))).toMatchObject({
      by: 'alice',
      authentication: 'signed-cli',
    });
    const waiting = await waitForPending(handle, 1);
    expect(waiting.requestId).toBe(pending.requestId);
    expect(waiting.approvals).toMatchObject([{ by: 'alice', authentication: 'signed-cli' }]);
    expect(world.repairs).toBe(0);

    expect(await send(handle, signed(handle, pending, { key: 'bob', by: 'bob' }))).toMatchObject({
      by: 'bob',
      authentication: 'signed-cli',
    });
    const report = await handle.result();
    expect(report.verdict).toBe('fixed');
    expect(world.repairs).toBe(1);
    expect(report.decisions).toMatchObject([
      { request: pending.requestId, by: 'alice', approved: true, authentication: 'signed-cli' },
      { request: pending.requestId, by: 'bob', approved: true, authentication: 'signed-cli' },
    ]);
  });
});
