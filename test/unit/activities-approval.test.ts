/**
 * The worker side of approvals, on a temporary config file: the plan the workflow gets (names only, groups
 * expanded) and the check of a decision's proof against the approvers' and the receiver's keys.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { verifyDecisionProof } from '../../src/activities/approval.js';
import { loadTargetPlan } from '../../src/activities/plan.js';
import { signAsReceiver, signDecision } from '../../src/approval/signature.js';
import type { SignedDecisionFields } from '../../src/shared/approval.js';
import { edit, fullRaw } from './config-fixture.js';
import { generateSshKeyPair } from '../../src/transports/ssh-keygen.js';

const alice = generateSshKeyPair('ed25519', { comment: 'alice@test' });
const bob = generateSshKeyPair('ed25519', { comment: 'bob@test' });
const receiver = generateSshKeyPair('ed25519', {});

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mrb-approval-'));
  await writeFile(join(dir, 'receiver.key'), receiver.private, { mode: 0o600 });
  await writeFile(join(dir, 'rsa.key'), generateSshKeyPair('rsa', { bits: 2048 }).private, {
    mode: 0o600,
  });
  let raw = edit(fullRaw(), 'approvers', {
    alice: { publicKeys: [alice.public], token: { env: 'MRB_TEST_TOKEN_ALICE' } },
    bob: { publicKeys: [bob.public] },
    carol: {},
  });
  raw = edit(raw, 'targets.0.approval.receiverKey', { file: 'receiver.key' });
  raw = edit(raw, 'targets.2.approval', { receiverKey: { file: 'rsa.key' } });
  await writeFile(join(dir, 'mail-runbooks.yaml'), stringify(raw));
  vi.stubEnv('MRB_CONFIG', join(dir, 'mail-runbooks.yaml'));
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

const fields = (over: Partial<SignedDecisionFields> = {}): SignedDecisionFields => ({
  workflowId: 'queueBacklog.lab',
  runId: 'run-1',
  request: 'delete-messages#1',
  step: 'delete-messages',
  approved: true,
  by: 'alice',
  signedAt: new Date().toISOString(),
  ...over,
});

describe('loadTargetPlan', () => {
  it('gives the workflow approver names with groups expanded, and no keys or tokens', async () => {
    const plan = await loadTargetPlan('lab');
    expect(plan).toEqual({
      target: 'lab',
      waits: { drainSeconds: 600, deliverySeconds: 120 },
      limits: { cooldownSeconds: 300, actionsPerHour: 6, fleetActionsPerHour: 30, leaseWaitSeconds: 900 },
      relayAccess: 'ssh',
      approval: {
        approvers: ['carol', 'alice', 'bob'],
        minApprovals: 1,
        fourEyes: true,
        allowUnsigned: false,
        timeoutSeconds: 3600,
        reminderAfterSeconds: 900,
        escalateAfterSeconds: 1800,
        escalateTo: ['carol'],
        proceedOnTimeout: ['requeue-deferred'],
        unattended: ['flush-queue'],
        steps: { 'delete-messages': { minApprovals: 2, allowUnsigned: false } },
      },
    });
    const text = JSON.stringify(plan);
    for (const secretish of ['ssh-ed25519', 'receiver.key', 'MRB_TEST_TOKEN_ALICE']) {
      expect(text).not.toContain(secretish);
    }
  });
});

describe('verifyDecisionProof', () => {
  it("accepts a decision signed with the approver's key", async () => {
    const f = fields();
    expect(await verifyDecisionProof('lab', f, signDecision(f, alice.private))).toEqual({ ok: true });
  });

  it('refuses a forged "by": signed by one approver in the name of another', async () => {
    const f = fields({ by: 'bob' });
    expect(await verifyDecisionProof('lab', f, signDecision(f, alice.private))).toEqual({
      ok: false,
      reason: 'the signature does not match this decision with any public key of approver bob',
    });
  });

  it('refuses an approver the config does not define, or one without a key', async () => {
    const f = fields({ by: 'mallory' });
    expect(await verifyDecisionProof('lab', f, signDecision(f, alice.private))).toEqual({
      ok: false,
      reason: '"mallory" is not an approver in the worker\'s config',
    });
    const c = fields({ by: 'carol' });
    expect(await verifyDecisionProof('lab', c, signDecision(c, alice.private))).toMatchObject({
      ok: false,
      reason: 'approver carol has no public key in the config, so a signed decision cannot be checked',
    });
    const proto = fields({ by: 'constructor' });
    expect(await verifyDecisionProof('lab', proto, signDecision(proto, alice.private))).toMatchObject({
      ok: false,
      reason: /not an approver/,
    });
  });

  it('refuses a signed decision replayed on another run or request, or once expired', async () => {
    const f = fields();
    const proof = signDecision(f, alice.private);
    expect(await verifyDecisionProof('lab', { ...f, runId: 'run-2' }, proof)).toMatchObject({ ok: false });
    expect(await verifyDecisionProof('lab', { ...f, request: 'delete-messages#2' }, proof)).toMatchObject({
      ok: false,
    });
    const old = fields({ signedAt: new Date(Date.now() - 11 * 60_000).toISOString() });
    expect(await verifyDecisionProof('lab', old, signDecision(old, alice.private))).toMatchObject({
      ok: false,
      reason: /older than the allowed 10 minutes/,
    });
  });

  it("checks a receiver-signed decision with the public half of the target's receiver key", async () => {
    const f = fields();
    expect(await verifyDecisionProof('lab', f, signAsReceiver(f, receiver.private))).toEqual({ ok: true });
    // Signed by someone else's key in the receiver's name.
    expect(await verifyDecisionProof('lab', f, signAsReceiver(f, alice.private))).toMatchObject({
      ok: false,
      reason: "the signature does not match this decision with the receiver's key",
    });
  });

  it('says why a receiver-signed decision cannot be checked, naming no key material', async () => {
    const f = fields();
    const proof = signAsReceiver(f, receiver.private);
    expect(await verifyDecisionProof('edge', f, proof)).toEqual({
      ok: false,
      reason:
        'target edge has no approval.receiverKey, so a decision signed by the receiver cannot be checked',
    });
    const remote = await verifyDecisionProof('remote', f, proof);
    expect(remote).toEqual({
      ok: false,
      reason:
        'the receiver key of target remote (approval.receiverKey) is a ssh-rsa key; approvals are signed with ed25519 keys only',
    });
  });
});
