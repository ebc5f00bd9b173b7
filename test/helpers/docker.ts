/**
 * Docker parts for transport tests: a throwaway container from the locally built base image, and a
 * TLS-terminating proxy in front of the local engine socket, so the TCP+TLS path talks to the real engine
 * with real certificates (made by openssl in a temp dir) without a second dockerd.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { ensureBaseImage } from '../../src/lab/base-image.js';

const run = promisify(execFile);
const ENGINE_SOCKET = '/var/run/docker.sock';

export interface TestContainer {
  readonly name: string;
  remove(): Promise<void>;
}

/** `sleep infinity` in a fresh, network-less container named mrb-test-transport-<random>. */
export async function startTestContainer(docker: Docker): Promise<TestContainer> {
  const image = await ensureBaseImage(docker);
  const name = `mrb-test-transport-${randomBytes(4).toString('hex')}`;
  const container = await docker.createContainer({
    name,
    Image: image,
    Cmd: ['sleep', 'infinity'],
    Labels: { 'mail-runbooks.test': 'transports' },
    HostConfig: { NetworkMode: 'none' },
  });
  const remove = async (): Promise<void> => {
    await container.remove({ force: true }).catch((error: { statusCode?: number }) => {
      if (error.statusCode !== 404) throw error;
    });
  };
  try {
    await container.start();
  } catch (error) {
    await remove();
    throw error;
  }
  return { name, remove };
}

export interface TlsMaterial {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface TlsEngineProxy {
  readonly host: string;
  readonly port: number;
  /** Client certificate signed by the CA the proxy trusts, with that CA. */
  readonly client: TlsMaterial;
  /** A second, unrelated CA and a client certificate from it (trusted by nobody). */
  readonly rogue: TlsMaterial;
  stop(): Promise<void>;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

/** A CA plus one certificate it signed; `extensions` goes to the leaf (SAN, key usage). */
async function makeCa(dir: string, name: string, leaves: { name: string; cn: string; extensions: string }[]) {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(dir, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
  ]);
  for (const leaf of leaves) {
    await writeFile(join(dir, `${leaf.name}.ext`), `${leaf.extensions}\n`);
    await openssl(dir, [
      'req',
      ...ec,
      '-keyout',
      `${leaf.name}.key`,
      '-out',
      `${leaf.name}.csr`,
      '-subj',
      `/CN=${leaf.cn}`,
    ]);
    await openssl(dir, [
      'x509', '-req', '-in', `${leaf.name}.csr`, '-CA', `${name}.pem`, '-CAkey', `${name}.key`, '-CAcreateserial',
      '-out', `${leaf.name}.pem`, '-days', '1', '-extfile', `${leaf.name}.ext`,
    ]); // prettier-ignore
  }
}

export async function startTlsEngineProxy(): Promise<TlsEngineProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'mrb-tls-'));
  const read = (file: string): Promise<string> => readFile(join(dir, file), 'utf8');
  try {
    await makeCa(dir, 'ca', [
      {
        name: 'server',
        cn: '127.0.0.1',
        extensions: 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth',
      },
      { name: 'client', cn: 'mrb-test-client', extensions: 'extendedKeyUsage=clientAuth' },
    ]);
    await makeCa(dir, 'rogue-ca', [
      { name: 'rogue-client', cn: 'mrb-rogue-client', extensions: 'extendedKeyUsage=clientAuth' },
    ]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const ca = await read('ca.pem');
  const open = new Set<Duplex>();
  const server = createServer(
    {
      key: await read('server.key'),
      cert: await read('server.pem'),
      ca,
      requestCert: true,
      rejectUnauthorized: true,
      allowHalfOpen: true,
    },
    (tlsSocket) => {
      open.add(tlsSocket);
      tlsSocket.once('close', () => open.delete(tlsSocket));
      const engine = connect({ path: ENGINE_SOCKET, allowHalfOpen: true });
      tlsSocket.on('error', () => engine.destroy());
      engine.on('error', () => tlsSocket.destroy());
      tlsSocket.pipe(engine).pipe(tlsSocket);
    },
  );
  server.on('tlsClientError', () => undefined); // refused handshakes are what some tests want
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    client: { ca, cert: await read('client.pem'), key: await read('client.key') },
    rogue: {
      ca: await read('rogue-ca.pem'),
      cert: await read('rogue-client.pem'),
      key: await read('rogue-client.key'),
    },
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of open) socket.destroy();
      await closed;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
