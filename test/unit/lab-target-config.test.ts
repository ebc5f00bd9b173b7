/** The lab's generated target config: valid, one signing approver, unsigned decisions allowed. */
import { expect, it } from 'vitest';
import { approvalPlan } from '../../src/activities/plan.js';
import { signDecision, checkProof } from '../../src/approval/signature.js';
import { validateConfig } from '../../src/config/validate.js';
import { DEFAULT_PORTS } from '../../src/lab/settings.js';
import { LAB_APPROVER, targetConfig } from '../../src/lab/target-config.js';
import { FP } from './config-fixture.js';
import { generateSshKeyPair } from '../../src/transports/ssh-keygen.js';

it('defines lab-admin with the generated public key, and lets unsigned decisions count', () => {
  const key = generateSshKeyPair('ed25519', { comment: 'lab-admin approvals (lab)' });
  const result = validateConfig(
    targetConfig({ ports: DEFAULT_PORTS }, { relayHostKeyFingerprint: FP.a }, key.public),
  );
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const { config } = result;
  expect(Object.keys(config.approvers)).toEqual([LAB_APPROVER]);
  const lab = config.targets[0]!;
  expect(approvalPlan(lab.approval, config.approverGroups)).toMatchObject({
    approvers: [],
    allowUnsigned: true,
    fourEyes: true,
    minApprovals: 1,
  });
  // What the lab's key signs, the config's key verifies.
  const fields = {
    workflowId: 'queueBacklog.lab',
    runId: 'r',
    request: 'flush-queue#1',
    step: 'flush-queue',
    approved: true,
    by: LAB_APPROVER,
    signedAt: new Date().toISOString(),
  };
  const keys = { approverPublicKeys: config.approvers[LAB_APPROVER]?.publicKeys ?? [] };
  expect(checkProof(fields, signDecision(fields, key.private), keys, new Date())).toEqual({ ok: true });
});
