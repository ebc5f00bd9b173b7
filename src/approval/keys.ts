/**
 * Reading the ed25519 keys approvals are signed with (OpenSSH formats, through ssh2). Problems are plain
 * sentences that never repeat the key text: a private key pasted where a public one belongs is a secret.
 */
import ssh2, { type ParsedKey } from 'ssh2';

export type KeyResult = { ok: true; key: ParsedKey } | { ok: false; problem: string };

const ED25519 = 'ssh-ed25519';

/** An OpenSSH public key line ("ssh-ed25519 AAAA... comment"), as config lists an approver's keys. */
export function readPublicKey(line: string): KeyResult {
  const parsed = ssh2.utils.parseKey(line.trim());
  if (parsed instanceof Error)
    return { ok: false, problem: 'is not an OpenSSH public key line ("ssh-ed25519 AAAA... comment")' };
  if (parsed.isPrivateKey())
    return { ok: false, problem: 'is a private key: give the public key line (the .pub file) instead' };
  if (parsed.type !== ED25519)
    return { ok: false, problem: `is a ${parsed.type} key; approvals are signed with ed25519 keys only` };
  return { ok: true, key: parsed };
}

/** An OpenSSH (or PEM) ed25519 private key, decrypted with `passphrase` when it is encrypted. */
export function readPrivateKey(text: string, passphrase?: string): KeyResult {
  const parsed = ssh2.utils.parseKey(text, passphrase);
  // ssh2's messages name the format problem ("bad passphrase?"), never the key's content.
  if (parsed instanceof Error) return { ok: false, problem: `cannot be read: ${parsed.message}` };
  if (!parsed.isPrivateKey()) return { ok: false, problem: 'is a public key, not a private key' };
  if (parsed.type !== ED25519)
    return { ok: false, problem: `is a ${parsed.type} key; approvals are signed with ed25519 keys only` };
  return { ok: true, key: parsed };
}

/** The OpenSSH public key line of a key ("ssh-ed25519 AAAA..."), without a comment. */
export function publicKeyLine(key: ParsedKey): string {
  return `${key.type} ${key.getPublicSSH().toString('base64')}`;
}
