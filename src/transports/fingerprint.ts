/**
 * Pinned SSH host keys: OpenSSH's `SHA256:<base64 without padding>` fingerprint (what `ssh-keygen -lf`
 * and `ssh-keyscan | ssh-keygen -lf -` print) of the key blob the server presents during the handshake.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { TransportError } from './types.js';

const PREFIX = 'SHA256:';
const SHA256_BYTES = 32;

/** The fingerprint of a public key blob (SSH wire format), as OpenSSH prints it. */
export function sshFingerprint(keyBlob: Buffer): string {
  return formatFingerprint(createHash('sha256').update(keyBlob).digest());
}

/** A SHA-256 digest in OpenSSH's notation. */
export function formatFingerprint(digest: Buffer): string {
  return PREFIX + digest.toString('base64').replace(/=+$/, '');
}

/** The 32 digest bytes of a configured fingerprint; throws TransportError('config') when it is malformed. */
export function parseFingerprint(fingerprint: string): Buffer {
  const trimmed = fingerprint.trim();
  const body = trimmed.startsWith(PREFIX) ? trimmed.slice(PREFIX.length) : undefined;
  // Standard base64 alphabet only (OpenSSH never uses the URL-safe one); padding tolerated.
  if (body === undefined || !/^[A-Za-z0-9+/]{43}=?$/.test(body)) {
    throw new TransportError(
      'config',
      `host key fingerprint must look like 'SHA256:' followed by 43 base64 characters (as printed by ssh-keygen -lf), got '${trimmed.slice(0, 60)}'`,
    );
  }
  const digest = Buffer.from(body, 'base64');
  if (digest.length !== SHA256_BYTES) {
    throw new TransportError('config', `host key fingerprint does not decode to ${SHA256_BYTES} bytes`);
  }
  return digest;
}

/** Whether the presented key blob hashes to the pinned digest; constant-time in the digest comparison. */
export function matchesPinnedKey(keyBlob: Buffer, pinnedDigest: Buffer): boolean {
  const presented = createHash('sha256').update(keyBlob).digest();
  return presented.length === pinnedDigest.length && timingSafeEqual(presented, pinnedDigest);
}
