/**
 * Signed approval decisions: a channel signs `signedDecisionBytes(...)` with an ed25519 key, the worker
 * checks the signature before the decision counts. `signed-cli`: the approver's own key (config lists its
 * public half). `signed-receiver`: the receiver's key, after its approval endpoint checked the approver's
 * token. Reasons for a refusal are sentences for people; they never contain key material.
 */
import {
  signedDecisionBytes,
  type DecisionProof,
  type ProofCheck,
  type SignedDecisionFields,
} from '../shared/approval.js';
import { readPrivateKey, readPublicKey } from './keys.js';

/** A signature older than this is refused: a decision is for now, not for a replay later. */
export const MAX_SIGNATURE_AGE_MS = 10 * 60_000;
/** Clocks differ a little; a signature dated further ahead than this is refused. */
export const MAX_CLOCK_AHEAD_MS = 60_000;

/** A key that cannot sign (unreadable, wrong type, wrong passphrase); the message never shows the key. */
export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
}

const ED25519_SIGNATURE_BYTES = 64;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function sign(
  kind: DecisionProof['kind'],
  fields: SignedDecisionFields,
  privateKey: string,
  passphrase?: string,
): DecisionProof {
  const read = readPrivateKey(privateKey, passphrase);
  if (!read.ok) throw new SigningKeyError(`the signing key ${read.problem}`);
  const signature = read.key.sign(Buffer.from(signedDecisionBytes(fields), 'utf8'));
  return { kind, signedAt: fields.signedAt, signature: signature.toString('base64') };
}

/** The CLI's proof: signed with the approver's own OpenSSH ed25519 private key. */
export function signDecision(
  fields: SignedDecisionFields,
  privateKey: string,
  passphrase?: string,
): DecisionProof {
  return sign('signed-cli', fields, privateKey, passphrase);
}

/** The receiver's proof, after its approval endpoint authenticated the approver. */
export function signAsReceiver(
  fields: SignedDecisionFields,
  receiverKey: string,
  passphrase?: string,
): DecisionProof {
  return sign('signed-receiver', fields, receiverKey, passphrase);
}

export interface ProofKeys {
  /** The approver's public key lines from config (for signed-cli). */
  approverPublicKeys: string[];
  /** The receiver's public key line (for signed-receiver), when the target has a receiver key. */
  receiverPublicKey?: string;
}

const refuse = (reason: string): ProofCheck => ({ ok: false, reason });

/** When the proof was signed, or why its time is not acceptable at `now`. */
function timeProblem(fields: SignedDecisionFields, proof: DecisionProof, now: Date): string | undefined {
  if (typeof proof.signedAt !== 'string' || proof.signedAt !== fields.signedAt)
    return 'the signing time in the proof is not the one the decision was signed with';
  const signedAt = Date.parse(proof.signedAt);
  if (!Number.isFinite(signedAt)) return 'the signing time is not a valid ISO 8601 time';
  const age = now.getTime() - signedAt;
  if (age > MAX_SIGNATURE_AGE_MS)
    return `the signature is older than the allowed ${MAX_SIGNATURE_AGE_MS / 60_000} minutes; sign the decision again`;
  if (-age > MAX_CLOCK_AHEAD_MS)
    return `the signature is dated more than ${MAX_CLOCK_AHEAD_MS / 60_000} minute in the future; check the signer's clock`;
  return undefined;
}

/**
 * Whether `proof` is a valid signature of `fields` by one of the keys its kind calls for, made within
 * the allowed age at `now`.
 */
export function checkProof(
  fields: SignedDecisionFields,
  proof: DecisionProof,
  keys: ProofKeys,
  now: Date,
): ProofCheck {
  if (typeof proof !== 'object' || proof === null) return refuse('the proof is not an object');
  if (proof.kind !== 'signed-cli' && proof.kind !== 'signed-receiver')
    return refuse('the proof kind is neither signed-cli nor signed-receiver');
  if (typeof proof.signature !== 'string' || !BASE64.test(proof.signature))
    return refuse('the signature is not base64');
  const signature = Buffer.from(proof.signature, 'base64');
  if (signature.length !== ED25519_SIGNATURE_BYTES)
    return refuse(`the signature is not an ed25519 signature (${ED25519_SIGNATURE_BYTES} bytes)`);
  const late = timeProblem(fields, proof, now);
  if (late) return refuse(late);

  const lines =
    proof.kind === 'signed-cli'
      ? keys.approverPublicKeys
      : keys.receiverPublicKey === undefined
        ? []
        : [keys.receiverPublicKey];
  if (lines.length === 0)
    return refuse(
      proof.kind === 'signed-cli'
        ? `approver ${fields.by} has no public key in the config, so a signed decision cannot be checked`
        : 'the target has no approval.receiverKey, so a decision signed by the receiver cannot be checked',
    );
  const data = Buffer.from(signedDecisionBytes(fields), 'utf8');
  const verifies = lines.some((line) => {
    const read = readPublicKey(line);
    return read.ok && read.key.verify(data, signature);
  });
  if (verifies) return { ok: true };
  return refuse(
    proof.kind === 'signed-cli'
      ? `the signature does not match this decision with any public key of approver ${fields.by}`
      : "the signature does not match this decision with the receiver's key",
  );
}
