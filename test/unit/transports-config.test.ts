import { describe, expect, it } from 'vitest';
import { validateEngine } from '../../src/transports/docker-engine.js';
import type { DockerEngineSpec } from '../../src/transports/docker-engine.js';
import { classifyDockerError } from '../../src/transports/docker-errors.js';
import { createTransport } from '../../src/transports/index.js';
import type { TransportSpec } from '../../src/transports/index.js';
import { TransportError } from '../../src/transports/types.js';
import { generateSshKeyPair } from '../../src/transports/ssh-keygen.js';

const PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const PEM_KEY = '-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n';
const FINGERPRINT = 'SHA256:4Mg2PxrFQ/EwS2NL5xe/EP4rM/jk30JxQ88YHWv2dEo';
const key = generateSshKeyPair('ed25519', {});
const encryptedKey = generateSshKeyPair('ed25519', {
  passphrase: 'right',
  cipher: 'aes256-ctr',
  rounds: 16,
});

const tls = (over: Partial<Extract<DockerEngineSpec, { kind: 'tls' }>> = {}): DockerEngineSpec => ({
  kind: 'tls',
  host: 'docker1.example',
  port: 2376,
  ca: PEM_CERT,
  cert: PEM_CERT,
  key: PEM_KEY,
  ...over,
});

const ssh = (over: Partial<Extract<TransportSpec, { kind: 'ssh' }>> = {}): TransportSpec => ({
  kind: 'ssh',
  host: 'relay1.example',
  port: 22,
  user: 'ops',
  privateKey: key.private,
  hostKeyFingerprint: FINGERPRINT,
  shell: 'posix',
  ...over,
});

function kindOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof TransportError) return error.kind;
    throw error;
  }
  return undefined;
}

describe('docker engine settings', () => {
  it('accepts a complete TCP+TLS engine', () => {
    expect(() => validateEngine(tls())).not.toThrow();
    expect(() =>
      validateEngine({ kind: 'tls', host: '::1', port: 2376, ca: PEM_CERT, cert: PEM_CERT, key: PEM_KEY }),
    ).not.toThrow();
  });

  it.each([
    ['empty host', { host: '' }],
    ['host with a scheme', { host: 'tcp://docker1' }],
    ['port 0', { port: 0 }],
    ['port too large', { port: 70_000 }],
    ['no CA', { ca: '' }],
    ['CA is a path, not contents', { ca: '/etc/docker/ca.pem' }],
    ['cert is a key', { cert: PEM_KEY }],
    ['key is a certificate', { key: PEM_CERT }],
  ])('refuses TCP+TLS with %s', (_name, over) => {
    expect(kindOf(() => validateEngine(tls(over)))).toBe('config');
  });

  it('never quotes key material in its messages', () => {
    const secret = '-----BEGIN CERTIFICATE-----\nTOPSECRET\n-----END CERTIFICATE-----';
    try {
      validateEngine(tls({ key: secret }));
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('TOPSECRET');
    }
  });

  it('wants an absolute unix socket path', () => {
    expect(kindOf(() => validateEngine({ kind: 'unix', socketPath: 'docker.sock' }))).toBe('config');
    expect(() => validateEngine({ kind: 'unix' })).not.toThrow();
  });
});

describe('createTransport', () => {
  it('describes each transport without secrets', () => {
    expect(createTransport({ kind: 'local' }).description).toBe('local process');
    expect(
      createTransport({ kind: 'docker', engine: { kind: 'unix' }, container: 'mailserver' }).description,
    ).toBe('docker exec mailserver @ unix socket /var/run/docker.sock');
    expect(createTransport({ kind: 'docker', engine: tls(), container: 'mailserver' }).description).toBe(
      'docker exec mailserver @ tls docker1.example:2376',
    );
    const overSsh = createTransport({
      kind: 'docker',
      container: 'mailserver',
      engine: {
        kind: 'ssh',
        host: 'docker1.example',
        port: 22,
        user: 'ops',
        privateKey: key.private,
        hostKeyFingerprint: FINGERPRINT,
      },
    });
    expect(overSsh.description).toBe('docker exec mailserver @ ssh ops@docker1.example:22');
    expect(createTransport(ssh({ shell: 'powershell' })).description).toBe(
      'ssh ops@relay1.example:22 (powershell)',
    );
  });

  it('refuses bad SSH settings at once', () => {
    expect(kindOf(() => createTransport(ssh({ hostKeyFingerprint: 'MD5:aa:bb' })))).toBe('config');
    expect(kindOf(() => createTransport(ssh({ port: 0 })))).toBe('config');
    expect(kindOf(() => createTransport(ssh({ user: '' })))).toBe('config');
    expect(kindOf(() => createTransport(ssh({ host: 'a b' })))).toBe('config');
    expect(kindOf(() => createTransport(ssh({ connectTimeoutMs: 0 })))).toBe('config');
    expect(
      kindOf(() => createTransport({ kind: 'docker', engine: { kind: 'unix' }, container: 'a;b' })),
    ).toBe('config');
  });

  it('refuses an unusable private key as an auth error without quoting it', () => {
    expect(kindOf(() => createTransport(ssh({ privateKey: 'not a key' })))).toBe('auth');
    expect(kindOf(() => createTransport(ssh({ privateKey: encryptedKey.private })))).toBe('auth');
    expect(
      kindOf(() => createTransport(ssh({ privateKey: encryptedKey.private, passphrase: 'wrong' }))),
    ).toBe('auth');
    expect(() =>
      createTransport(ssh({ privateKey: encryptedKey.private, passphrase: 'right' })),
    ).not.toThrow();
    try {
      createTransport(ssh({ privateKey: 'PRIVATE-SECRET-BYTES' }));
    } catch (error) {
      expect((error as Error).message).not.toContain('PRIVATE-SECRET');
    }
  });

  it('takes an empty pin (unknown host) and refuses it only when the host presents its key', () => {
    expect(() => createTransport(ssh({ hostKeyFingerprint: '' }))).not.toThrow();
  });
});

describe('docker error classification', () => {
  const classify = (error: unknown) => classifyDockerError(error, 'mailserver', 'unix socket /x');
  const withProps = (message: string, props: Record<string, unknown>) =>
    Object.assign(new Error(message), props);

  it.each([
    ['404', withProps('no such container', { statusCode: 404 }), 'not-found', false],
    ['409 (stopped)', withProps('not running', { statusCode: 409 }), 'unreachable', true],
    ['403', withProps('forbidden', { statusCode: 403 }), 'auth', false],
    ['400', withProps('bad parameter', { statusCode: 400 }), 'config', false],
    ['500', withProps('oops', { statusCode: 500 }), 'unreachable', true],
    ['refused', withProps('connect ECONNREFUSED', { code: 'ECONNREFUSED' }), 'unreachable', true],
    ['missing socket', withProps('connect ENOENT /x', { code: 'ENOENT' }), 'unreachable', true],
    ['socket permission', withProps('connect EACCES /x', { code: 'EACCES' }), 'auth', false],
    [
      'untrusted server cert',
      withProps('self-signed', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
      'host-key',
      false,
    ],
    ['wrong server name', withProps('altname', { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'host-key', false],
    [
      'client cert refused',
      withProps('alert', { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' }),
      'auth',
      false,
    ],
  ])('%s', (_name, error, kind, retryable) => {
    expect(classify(error)).toMatchObject({ kind, retryable });
  });

  it('passes our own errors (from the SSH tunnel) through', () => {
    const own = new TransportError('host-key', 'mismatch');
    expect(classify(own)).toBe(own);
  });

  it('names the container for not-found', () => {
    expect(classify(withProps('x', { statusCode: 404 })).message).toBe(
      "container 'mailserver' not found on unix socket /x",
    );
  });
});
