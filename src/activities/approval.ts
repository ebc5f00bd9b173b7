/**
 * Checks a decision's proof on the worker, where the keys are: the workflow sends the signed fields and
 * the proof, and gets back whether they hold and, if not, why. Neither keys nor tokens leave the worker,
 * and the reasons never contain them.
 */
import { publicKeyLine, readPrivateKey } from '../approval/keys.js';
import { checkProof } from '../approval/signature.js';
import { own } from '../config/approvers.js';
import type { DecisionProof, ProofCheck, SignedDecisionFields } from '../shared/approval.js';
import { secret, targetConfig, workerConfig } from './context.js';

const refuse = (reason: string): ProofCheck => ({ ok: false, reason });

/** The receiver's public key line, derived from its private key (the target's approval.receiverKey). */
async function receiverPublicKey(targetName: string): Promise<string | ProofCheck> {
  const target = await targetConfig(targetName);
  const ref = target.approval.receiverKey;
  if (ref === undefined)
    return refuse(
      `target ${target.name} has no approval.receiverKey, so a decision signed by the receiver cannot be checked`,
    );
  let text: string;
  try {
    text = await secret(ref);
  } catch (err) {
    // A secret's error names the reference (env NAME, file PATH), never its value.
    return refuse(
      `the receiver key of target ${target.name} cannot be read on the worker: ${(err as Error).message}`,
    );
  }
  const read = readPrivateKey(text);
  if (!read.ok)
    return refuse(`the receiver key of target ${target.name} (approval.receiverKey) ${read.problem}`);
  return publicKeyLine(read.key);
}

export async function verifyDecisionProof(
  targetName: string,
  fields: SignedDecisionFields,
  proof: DecisionProof,
): Promise<ProofCheck> {
  const { config } = await workerConfig();
  const approver = own(config.approvers, fields.by);
  if (approver === undefined)
    return refuse(`${JSON.stringify(fields.by)} is not an approver in the worker's config`);
  if (proof?.kind === 'signed-receiver') {
    const receiver = await receiverPublicKey(targetName);
    if (typeof receiver !== 'string') return receiver;
    return checkProof(fields, proof, { approverPublicKeys: [], receiverPublicKey: receiver }, new Date());
  }
  return checkProof(fields, proof, { approverPublicKeys: approver.publicKeys ?? [] }, new Date());
}
