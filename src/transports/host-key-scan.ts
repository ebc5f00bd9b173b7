/**
 * Reads the host key an SSH server presents, for pinning: the handshake stops at host key verification, so
 * nothing is authenticated and no credential is sent. The transport (ssh-connection.ts) negotiates with the
 * same ssh2 defaults, so the key read here is the one it will check against the pin.
 */
import ssh2 from 'ssh2';
import { errorMessage } from './errors.js';
import { sshFingerprint } from './fingerprint.js';
import { TransportError } from './types.js';

export interface ScannedHostKey {
  /** The key's algorithm as the blob names it, e.g. ssh-ed25519. */
  keyType: string;
  /** OpenSSH's SHA256:... notation: the value of a config's `hostKey`. */
  fingerprint: string;
}

/** The algorithm name at the start of an SSH public key blob (a uint32 length, then the name). */
function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return length > 0 && length <= 64 && blob.length >= 4 + length
    ? blob.subarray(4, 4 + length).toString('latin1')
    : 'unknown';
}

export function scanHostKey(host: string, port: number, timeoutMs: number): Promise<ScannedHostKey> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let scanned: ScannedHostKey | undefined;
    const finish = (): void => {
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end();
      if (scanned) resolve(scanned);
      else reject(new TransportError('unreachable', `${host}:${port} presented no SSH host key`));
    };
    client.on('error', (error: Error) => {
      if (scanned) return finish();
      client.removeAllListeners();
      client.on('error', () => undefined);
      reject(new TransportError('unreachable', `${host}:${port}: ${errorMessage(error)}`, { cause: error }));
    });
    client.on('close', finish);
    try {
      client.connect({
        host,
        port,
        username: 'mail-runbooks-hostkey',
        readyTimeout: timeoutMs,
        tryKeyboard: false,
        hostVerifier: (blob: Buffer): boolean => {
          scanned = { keyType: keyTypeOf(blob), fingerprint: sshFingerprint(blob) };
          return false; // stop here: we only wanted the key
        },
      });
    } catch (error) {
      reject(new TransportError('config', `${host}:${port}: ${errorMessage(error)}`, { cause: error }));
    }
  });
}
