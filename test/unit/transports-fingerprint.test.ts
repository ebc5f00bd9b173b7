import { describe, expect, it } from 'vitest';
import {
  formatFingerprint,
  matchesPinnedKey,
  parseFingerprint,
  sshFingerprint,
} from '../../src/transports/fingerprint.js';
import { TransportError } from '../../src/transports/types.js';

// A throwaway public key and the fingerprint `ssh-keygen -lf key.pub -E sha256` printed for it.
const PUBLIC_KEY_LINE =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKdipKqaKzwmO2aaUwcQ3WyhIy43t1/t58JvsycnVOmg fixture';
const SSH_KEYGEN_FINGERPRINT = 'SHA256:4Mg2PxrFQ/EwS2NL5xe/EP4rM/jk30JxQ88YHWv2dEo';
const blob = Buffer.from(PUBLIC_KEY_LINE.split(' ')[1] ?? '', 'base64');

describe('host key fingerprints', () => {
  it('computes what ssh-keygen prints', () => {
    expect(sshFingerprint(blob)).toBe(SSH_KEYGEN_FINGERPRINT);
  });

  it('parses the pinned form, with or without padding, and formats it back', () => {
    const digest = parseFingerprint(SSH_KEYGEN_FINGERPRINT);
    expect(digest).toHaveLength(32);
    expect(parseFingerprint(`  ${SSH_KEYGEN_FINGERPRINT}=  `)).toEqual(digest);
    expect(formatFingerprint(digest)).toBe(SSH_KEYGEN_FINGERPRINT);
  });

  it('matches only the pinned key', () => {
    expect(matchesPinnedKey(blob, parseFingerprint(SSH_KEYGEN_FINGERPRINT))).toBe(true);
    const other = Buffer.from(blob);
    other[other.length - 1] = (other[other.length - 1] ?? 0) ^ 1;
    expect(matchesPinnedKey(other, parseFingerprint(SSH_KEYGEN_FINGERPRINT))).toBe(false);
  });

  it.each([
    ['MD5 form', 'MD5:18:62:fd:22:30:78:3b:9d:5d:b4:b5:98:02:49:7f:d0'],
    ['no prefix', '4Mg2PxrFQ/EwS2NL5xe/EP4rM/jk30JxQ88YHWv2dEo'],
    ['too short', 'SHA256:4Mg2PxrFQ/EwS2NL5xe'],
    ['url-safe alphabet', 'SHA256:4Mg2PxrFQ_EwS2NL5xe_EP4rM_jk30JxQ88YHWv2dEo'],
    ['a whole public key', PUBLIC_KEY_LINE],
  ])('refuses a malformed pin (%s) as a config error', (_name, value) => {
    expect(() => parseFingerprint(value)).toThrow(TransportError);
    try {
      parseFingerprint(value);
    } catch (error) {
      expect((error as TransportError).kind).toBe('config');
      expect((error as TransportError).retryable).toBe(false);
    }
  });
});
