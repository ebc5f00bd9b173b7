/**
 * ssh2 makes an ed25519 pair its own parser refuses about once in 256 (mscdex/ssh2#1390): the lab's keys
 * and the tests' keys come from generateSshKeyPair, which never hands such a pair out. 2,000 pairs straight
 * from ssh2 hold a refused one with a probability of 99.96 %; from generateSshKeyPair, none.
 */
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { generateSshKeyPair } from '../../src/transports/ssh-keygen.js';

const PAIRS = 2000;
const refused = (pair: ssh2.utils.KeyPairReturn, passphrase?: string) =>
  ssh2.utils.parseKey(pair.public) instanceof Error ||
  ssh2.utils.parseKey(pair.private, passphrase) instanceof Error;

describe('generateSshKeyPair', () => {
  it(`gives ${PAIRS} ed25519 pairs that ssh2 itself accepts`, () => {
    let bad = 0;
    for (let i = 0; i < PAIRS; i++) if (refused(generateSshKeyPair('ed25519', {}))) bad++;
    expect(bad).toBe(0);
  });

  it('keeps the passphrase, comment and type asked for', () => {
    const pair = generateSshKeyPair('ed25519', {
      comment: 'alice@test',
      passphrase: 'right',
      cipher: 'aes256-ctr',
      rounds: 16,
    });
    expect(refused(pair, 'right')).toBe(false);
    expect(ssh2.utils.parseKey(pair.private)).toBeInstanceOf(Error);
    expect(pair.public).toMatch(/^ssh-ed25519 \S+ alice@test$/);
    expect(generateSshKeyPair('rsa', { bits: 2048 }).public).toMatch(/^ssh-rsa /);
  });
});
