/** Signed decisions: what is signed is exactly what counts; anything else, or too old or too new, is refused. */
import { describe, expect, it } from 'vitest';
import { publicKeyLine, readPrivateKey, readPublicKey } from '../../src/approval/keys.js';
import {
  MAX_SIGNATURE_AGE_MS,
  SigningKeyError,
  checkProof,
  signAsReceiver,
  signDecision,
} from '../../src/approval/signature.js';
import type { DecisionProof, SignedDecisionFields } from '../../src/shared/approval.js';
import { generateSshKeyPair } from '../../src/transports/ssh-keygen.js';

const alice = generateSshKeyPair('ed25519', { comment: 'alice@laptop' });
const mallory = generateSshKeyPair('ed25519', { comment: 'mallory@laptop' });
const receiver = generateSshKeyPair('ed25519', {});
const now = new Date('2026-03-01T10:00:00.000Z');

const fields: SignedDecisionFields = {
  workflowId: 'alert.queueBacklog.lab',
  runId: '0195a1b2-run-1',
  request: 'flush-queue#1',
  step: 'flush-queue',
  approved: true,
  by: 'alice',
  signedAt: now.toISOString(),
};
const aliceKeys = { approverPublicKeys: [alice.public] };

describe('a decision signed with the approver key', () => {
  it('verifies with the public key config lists', () => {
    const proof = signDecision(fields, alice.private);
    expect(proof).toMatchObject({ kind: 'signed-cli', signedAt: fields.signedAt });
    expect(checkProof(fields, proof, aliceKeys, now)).toEqual({ ok: true });
    // Any of the approver's keys will do.
    expect(checkProof(fields, proof, { approverPublicKeys: [mallory.public, alice.public] }, now)).toEqual({
      ok: true,
    });
  });

  it('signs with an encrypted key given its passphrase, and says when the passphrase is wrong', () => {
    const locked = generateSshKeyPair('ed25519', {
      passphrase: 'pw',
      cipher: 'aes256-ctr',
      rounds: 16,
    });
    const proof = signDecision(fields, locked.private, 'pw');
    expect(checkProof(fields, proof, { approverPublicKeys: [locked.public] }, now)).toEqual({ ok: true });
    expect(() => signDecision(fields, locked.private, 'wrong')).toThrow(SigningKeyError);
    expect(() => signDecision(fields, locked.private)).toThrow(/no passphrase given/);
  });

  it('refuses to sign with anything but an ed25519 private key', () => {
    const rsa = generateSshKeyPair('rsa', { bits: 2048 });
    expect(() => signDecision(fields, rsa.private)).toThrow(/ssh-rsa key; approvals are signed with ed25519/);
    expect(() => signDecision(fields, alice.public)).toThrow(/is a public key/);
    expect(() => signDecision(fields, 'not a key')).toThrow(/cannot be read/);
  });

  const tampered: [keyof SignedDecisionFields, unknown][] = [
    ['workflowId', 'alert.queueBacklog.other'],
    ['runId', '0195a1b2-run-2'],
    ['request', 'flush-queue#2'],
    ['step', 'delete-messages'],
    ['approved', false],
    ['by', 'bob'],
  ];
  it.each(tampered)('is refused when %s differs from what was signed', (field, value) => {
    const proof = signDecision(fields, alice.private);
    const changed = { ...fields, [field]: value };
    const check = checkProof(changed, proof, aliceKeys, now);
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reason).toMatch(/does not match this decision/);
  });

  it('is refused when the signing time was changed', () => {
    const proof = signDecision(fields, alice.private);
    const later = new Date(now.getTime() + 1000).toISOString();
    expect(checkProof({ ...fields, signedAt: later }, { ...proof, signedAt: later }, aliceKeys, now)).toEqual(
      {
        ok: false,
        reason: expect.stringMatching(/does not match this decision/) as unknown,
      },
    );
    // The proof's time and the decision's time must be the same one.
    expect(checkProof(fields, { ...proof, signedAt: later }, aliceKeys, now)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/signing time in the proof/) as unknown,
    });
  });

  it('is refused once older than 10 minutes, and when dated more than a minute ahead', () => {
    const proof = signDecision(fields, alice.private);
    const at = (ms: number) => new Date(now.getTime() + ms);
    expect(checkProof(fields, proof, aliceKeys, at(MAX_SIGNATURE_AGE_MS))).toEqual({ ok: true });
    expect(checkProof(fields, proof, aliceKeys, at(MAX_SIGNATURE_AGE_MS + 1))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/older than the allowed 10 minutes/) as unknown,
    });
    expect(checkProof(fields, proof, aliceKeys, at(-60_000))).toEqual({ ok: true });
    expect(checkProof(fields, proof, aliceKeys, at(-60_001))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/more than 1 minute in the future/) as unknown,
    });
  });

  it('is refused with another key, or when the approver has none', () => {
    const forged = signDecision(fields, mallory.private);
    expect(checkProof(fields, forged, aliceKeys, now)).toEqual({
      ok: false,
      reason: 'the signature does not match this decision with any public key of approver alice',
    });
    expect(checkProof(fields, signDecision(fields, alice.private), { approverPublicKeys: [] }, now)).toEqual({
      ok: false,
      reason: 'approver alice has no public key in the config, so a signed decision cannot be checked',
    });
  });

  it('is refused when the proof is malformed', () => {
    const proof = signDecision(fields, alice.private);
    const bad = (p: unknown) => checkProof(fields, p as DecisionProof, aliceKeys, now);
    expect(bad({ ...proof, kind: 'signed-by-me' })).toMatchObject({ reason: /proof kind/ });
    expect(bad({ ...proof, signature: 'not base64!' })).toMatchObject({ reason: /not base64/ });
    expect(bad({ ...proof, signature: 'AAAA' })).toMatchObject({ reason: /not an ed25519 signature/ });
    expect(bad({ ...proof, signature: Buffer.alloc(64).toString('base64') })).toMatchObject({
      reason: /does not match/,
    });
    expect(bad({ ...proof, signedAt: 'yesterday' })).toMatchObject({ reason: /signing time/ });
    expect(bad(null)).toMatchObject({ reason: /not an object/ });
  });
});

describe('a decision signed by the receiver', () => {
  const receiverKeys = { approverPublicKeys: [alice.public], receiverPublicKey: receiver.public };

  it("verifies with the receiver's public key, and only with it", () => {
    const proof = signAsReceiver(fields, receiver.private);
    expect(proof.kind).toBe('signed-receiver');
    expect(checkProof(fields, proof, receiverKeys, now)).toEqual({ ok: true });
    // The approver's own key does not stand in for the receiver's, nor the other way round.
    expect(
      checkProof(
        fields,
        { ...signDecision(fields, alice.private), kind: 'signed-receiver' },
        receiverKeys,
        now,
      ),
    ).toMatchObject({ ok: false, reason: /with the receiver's key/ });
    expect(checkProof(fields, { ...proof, kind: 'signed-cli' }, receiverKeys, now)).toMatchObject({
      ok: false,
    });
  });

  it('is refused where the target has no receiver key', () => {
    const proof = signAsReceiver(fields, receiver.private);
    expect(checkProof(fields, proof, aliceKeys, now)).toEqual({
      ok: false,
      reason:
        'the target has no approval.receiverKey, so a decision signed by the receiver cannot be checked',
    });
  });

  it('is refused when replayed on another run or request', () => {
    const proof = signAsReceiver(fields, receiver.private);
    expect(checkProof({ ...fields, runId: 'other' }, proof, receiverKeys, now).ok).toBe(false);
    expect(checkProof({ ...fields, request: 'flush-queue#3' }, proof, receiverKeys, now).ok).toBe(false);
  });
});

describe('keys', () => {
  it('reads public key lines and derives them from private keys, never echoing key text', () => {
    const read = readPrivateKey(alice.private);
    expect(read.ok && publicKeyLine(read.key)).toBe(alice.public.split(' ').slice(0, 2).join(' '));
    expect(readPublicKey(alice.public).ok).toBe(true);
    const privateBody = alice.private.split('\n')[1] ?? '';
    const problems = [
      readPublicKey(alice.private),
      readPublicKey('ssh-ed25519 QUJDREVG'),
      readPublicKey('x'),
    ];
    for (const p of problems) {
      expect(p.ok).toBe(false);
      expect(JSON.stringify(p)).not.toContain(privateBody.slice(0, 20));
      expect(JSON.stringify(p)).not.toContain('QUJDREVG');
    }
    expect(readPublicKey(alice.private)).toMatchObject({ problem: /is a private key/ });
  });
});
