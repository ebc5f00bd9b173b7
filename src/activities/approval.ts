/** Placeholder until the signature module lands: no proof is accepted. */
import type { DecisionProof, ProofCheck, SignedDecisionFields } from '../shared/approval.js';

export async function verifyDecisionProof(
  _targetName: string,
  _fields: SignedDecisionFields,
  _proof: DecisionProof,
): Promise<ProofCheck> {
  return { ok: false, reason: 'signed decisions are not checked by this worker yet' };
}
