/**
 * How transports fail, against real parts: refused and unknown SSH host keys, bad keys, closed and silent
 * ports, missing programs and containers, an unreachable engine, untrusted TLS on either side. Each
 * failure must carry the right kind (retryable or not) and a message that helps without leaking secrets.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGE } from '../../src/lab/base-image.js';
import { createTransport } from '../../src/transports/index.js';
import type { ExecRequest, TransportSpec } from '../../src/transports/index.js';
import { TransportError } from '../../src/transports/types.js';
import { freePort } from '../helpers/ports.js';
import { startTransportParts, type TransportParts } from '../helpers/transport-parts.js';

const docker = new Docker({ socketPath: '/var/run/docker.sock' });
const ECHO: ExecRequest = { argv: ['echo', 'hello'], timeoutMs: 20_000, maxOutputBytes: 1024 };
let parts: TransportParts;

beforeAll(async () => {
  parts = await startTransportParts(docker);
});

afterAll(async () => {
  await parts?.stop();
});

/** Runs `request` on a fresh transport for `spec` and returns the TransportError it must throw. */
async function failure(spec: TransportSpec, request: ExecRequest = ECHO): Promise<TransportError> {
  const transport = createTransport(spec);
  try {
    const result = await transport.exec(request);
    throw new Error(`expected a TransportError, got ${JSON.stringify(result)}`);
  } catch (error) {
    if (!(error instanceof TransportError)) throw error;
    return error;
  } finally {
    await transport.close();
  }
}

function expectNoKeyMaterial(message: string): void {
  expect(message).not.toMatch(/PRIVATE KEY|BEGIN|ssh-ed25519 AAAA/);
  expect(message).not.toContain(parts.sshd.clientKey.slice(40, 80));
}

/** A TCP port that accepts connections and never says a word (a hung sshd or a firewall that eats packets). */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address');
  return {
    port: address.port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('local transport failures', () => {
  it('a missing program is not-found, not retryable', async () => {
    const error = await failure({ kind: 'local' }, { ...ECHO, argv: ['/nonexistent/mrb-program'] });
    expect(error).toMatchObject({ kind: 'not-found', retryable: false });
    expect(error.message).toContain('/nonexistent/mrb-program');
  });
});

describe('SSH transport failures and connection handling', () => {
  it('refuses a host key that does not match the pin, naming host, expected and presented fingerprints', async () => {
    const error = await failure(parts.sshSpec({ hostKeyFingerprint: parts.sshd.otherFingerprint }));
    expect(error).toMatchObject({ kind: 'host-key', retryable: false });
    expect(error.message).toBe(
      `SSH host key of 127.0.0.1:${parts.sshd.port} does not match the pinned one: expected ${parts.sshd.otherFingerprint}, ` +
        `presented ${parts.sshd.hostKeyFingerprint}; refusing to connect`,
    );
    expectNoKeyMaterial(error.message);
  });

  it('refuses a host without a pinned key and shows what it presented', async () => {
    const error = await failure(parts.sshSpec({ hostKeyFingerprint: '' }));
    expect(error).toMatchObject({ kind: 'host-key', retryable: false });
    expect(error.message).toContain(
      `SSH host 127.0.0.1:${parts.sshd.port} has no pinned host key; refusing to connect`,
    );
    expect(error.message).toContain(parts.sshd.hostKeyFingerprint);
  });

  it('a closed port is unreachable and retryable', async () => {
    const error = await failure(parts.sshSpec({ port: await freePort() }));
    expect(error).toMatchObject({ kind: 'unreachable', retryable: true });
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it('a server that never answers is unreachable after the connect timeout, not the command deadline', async () => {
    const silent = await silentServer();
    try {
      const started = Date.now();
      const error = await failure(parts.sshSpec({ port: silent.port, connectTimeoutMs: 500 }), {
        ...ECHO,
        timeoutMs: 10_000,
      });
      expect(error).toMatchObject({ kind: 'unreachable', retryable: true });
      expect(error.message).toContain('no SSH handshake within 500 ms');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await silent.close();
    }
  });

  it('a key the server does not accept is an auth error, not retryable', async () => {
    const error = await failure(parts.sshSpec({ privateKey: parts.sshd.strangerKey }));
    expect(error).toMatchObject({ kind: 'auth', retryable: false });
    expect(error.message).toContain(`${parts.sshd.user}@127.0.0.1:${parts.sshd.port} rejected our key`);
    expectNoKeyMaterial(error.message);
  });

  it('uses a passphrase-protected key', async () => {
    const transport = createTransport(
      parts.sshSpec({ privateKey: parts.sshd.encryptedClientKey, passphrase: parts.sshd.passphrase }),
    );
    try {
      expect(await transport.exec(ECHO)).toMatchObject({ exitCode: 0, stdout: 'hello\n' });
    } finally {
      await transport.close();
    }
  });

  it('a missing remote program is not-found', async () => {
    const error = await failure(parts.sshSpec(), { ...ECHO, argv: ['mrb-no-such-program'] });
    expect(error).toMatchObject({ kind: 'not-found', retryable: false });
  });

  it('reuses one connection for all commands, in parallel too, and reconnects after close()', async () => {
    const transport = createTransport(parts.sshSpec());
    const clientPort = async (): Promise<string> =>
      (await transport.exec({ ...ECHO, argv: ['printenv', 'SSH_CONNECTION'] })).stdout.split(' ')[1] ?? '';
    try {
      const first = await clientPort();
      const parallel = await Promise.all(Array.from({ length: 8 }, clientPort));
      expect(new Set([first, ...parallel])).toEqual(new Set([first]));
      await transport.close();
      expect(await clientPort()).not.toBe(first);
    } finally {
      await transport.close();
    }
  });
});

describe('docker transport failures', () => {
  const dockerSpec = (over: Partial<Extract<TransportSpec, { kind: 'docker' }>> = {}): TransportSpec => ({
    kind: 'docker',
    engine: { kind: 'unix' },
    container: parts.container.name,
    ...over,
  });

  it('a missing container is not-found', async () => {
    const error = await failure(
      dockerSpec({ container: `mrb-test-transport-missing-${randomBytes(4).toString('hex')}` }),
    );
    expect(error).toMatchObject({ kind: 'not-found', retryable: false });
    expect(error.message).toMatch(
      /^container 'mrb-test-transport-missing-[0-9a-f]+' not found on unix socket/,
    );
  });

  it('a container that is not running is retryable', async () => {
    const name = `mrb-test-transport-${randomBytes(4).toString('hex')}`;
    const created = await docker.createContainer({
      name,
      Image: BASE_IMAGE,
      Cmd: ['true'],
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      const error = await failure(dockerSpec({ container: name }));
      expect(error).toMatchObject({ kind: 'unreachable', retryable: true });
      expect(error.message).toContain('is not running');
    } finally {
      await created.remove({ force: true });
    }
  });

  it('a missing program in the container is not-found', async () => {
    const error = await failure(dockerSpec(), { ...ECHO, argv: ['mrb-no-such-program'] });
    expect(error).toMatchObject({ kind: 'not-found', retryable: false });
    expect(error.message).toContain('executable file not found');
  });

  it('an engine socket that is not there is unreachable', async () => {
    const error = await failure(
      dockerSpec({ engine: { kind: 'unix', socketPath: '/nonexistent/mrb/docker.sock' } }),
    );
    expect(error).toMatchObject({ kind: 'unreachable', retryable: true });
  });

  it('over SSH, refuses an engine host whose key does not match the pin', async () => {
    const {
      kind: _kind,
      shell: _shell,
      ...endpoint
    } = parts.sshSpec({ hostKeyFingerprint: parts.sshd.otherFingerprint });
    const error = await failure(dockerSpec({ engine: { kind: 'ssh', ...endpoint } }));
    expect(error).toMatchObject({ kind: 'host-key', retryable: false });
    expect(error.message).toContain(
      `expected ${parts.sshd.otherFingerprint}, presented ${parts.sshd.hostKeyFingerprint}`,
    );
  });

  it('over SSH, a closed port is unreachable', async () => {
    const { kind: _kind, shell: _shell, ...endpoint } = parts.sshSpec({ port: await freePort() });
    const error = await failure(dockerSpec({ engine: { kind: 'ssh', ...endpoint } }));
    expect(error).toMatchObject({ kind: 'unreachable', retryable: true });
  });

  it('over TLS, an engine certificate from another CA is refused like a changed host key', async () => {
    const { host, port, client, rogue } = parts.tlsProxy;
    const error = await failure(dockerSpec({ engine: { kind: 'tls', host, port, ...client, ca: rogue.ca } }));
    expect(error).toMatchObject({ kind: 'host-key', retryable: false });
  });

  it('over TLS, a client certificate the engine does not trust is an auth error', async () => {
    // The strict endpoint refuses it in the handshake with a TLS alert, like dockerd does.
    const { host, strictPort: port, client, rogue } = parts.tlsProxy;
    const error = await failure(
      dockerSpec({ engine: { kind: 'tls', host, port, ca: client.ca, cert: rogue.cert, key: rogue.key } }),
    );
    expect(error).toMatchObject({ kind: 'auth', retryable: false });
    expect(error.message).toMatch(/rejected our client certificate \(ERR_SSL_\w+_ALERT_\w+\)/);
    expectNoKeyMaterial(error.message);
  });
});
