/**
 * ssh2's key generator without its known flaw: about 1 pair in 256 of type ed25519 comes out with the
 * public key's leading zero byte stripped, and ssh2's own parseKey (so its client too) then refuses the
 * pair (mscdex/ssh2#1390, #1513). Such a pair is made again; eight tries leave a chance of 2^-64.
 */
import ssh2 from 'ssh2';

type KeySettings = ssh2.utils.KeySettings;
type KeyPairOptions = ssh2.utils.KeyPairOptions;

const TRIES = 8;

export function generateSshKeyPair<K extends keyof KeySettings>(
  type: K,
  options: KeySettings[K] & KeyPairOptions,
): ssh2.utils.KeyPairReturn {
  const passphrase = 'passphrase' in options ? options.passphrase : undefined;
  for (let attempt = 1; attempt <= TRIES; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync(type, options);
    const parsedPublic = ssh2.utils.parseKey(pair.public);
    const parsedPrivate = ssh2.utils.parseKey(pair.private, passphrase);
    if (!(parsedPublic instanceof Error) && !(parsedPrivate instanceof Error)) return pair;
  }
  throw new Error(`could not generate a usable ${type} key pair in ${TRIES} tries`);
}
