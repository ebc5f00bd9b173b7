/**
 * Docker parts for transport tests: a throwaway container from the locally built base image, and a
 * TLS-terminating proxy in front of the local engine socket, so the TCP+TLS path talks to the real engine
 * with real certificates (made by openssl in a temp dir) without a second dockerd.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { ensureBaseImage } from '../../src/lab/base-image.js';
import { freePort } from './ports.js';

const run = promisify(execFile);
const ENGINE_SOCKET = '/var/run/docker.sock';
const STRICT_READY_MS = 10_000;
const STOP_WAIT_MS = 5_000;

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
  /**
   * A TLS endpoint with the same server certificate and client CA whose TLS layer checks the client
   * certificate during the handshake and refuses an untrusted one with a TLS alert, as dockerd (Go's
   * crypto/tls) does. Node's TLS server cannot: it completes the handshake and then drops the connection,
   * which to the client looks like a network reset. Nothing behind it: only for the refused case.
   */
  readonly strictPort: number;
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
  // Every raw TCP connection, handshaken or not: with allowHalfOpen, a client that gives up during the TLS
  // handshake (an untrusted certificate) leaves its server side open forever, and server.close() would
  // wait for it.
  const open = new Set<Socket>();
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
      const engine = connect({ path: ENGINE_SOCKET, allowHalfOpen: true });
      tlsSocket.on('error', () => engine.destroy());
      tlsSocket.on('close', () => engine.destroy());
      engine.on('error', () => tlsSocket.destroy());
      tlsSocket.pipe(engine).pipe(tlsSocket);
    },
  );
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  // Refused handshakes are what some tests want; the socket is dropped at once.
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let strict: { port: number; stop(): Promise<void> };
  try {
    strict = await startStrictTlsEndpoint(dir);
  } catch (error) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    host: '127.0.0.1',
    port,
    client: { ca, cert: await read('client.pem'), key: await read('client.key') },
    rogue: {
      ca: await read('rogue-ca.pem'),
      cert: await read('rogue-client.pem'),
      key: await read('rogue-client.key'),
    },
    strictPort: strict.port,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of open) socket.destroy();
      // Bounded all the same: a teardown that never ends hangs the whole test run.
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, STOP_WAIT_MS);
      });
      await Promise.all([Promise.race([closed, bound]), strict.stop()]);
      clearTimeout(timer);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `openssl s_server` requiring a client certificate from ca.pem and failing the handshake with an alert
 * otherwise. With -verify_return_error it exits after the first refused client: one refusal per proxy.
 * (-quiet is needed: without it s_server drops the connection without sending the alert.)
 */
async function startStrictTlsEndpoint(dir: string): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    'openssl',
    ['s_server', '-quiet', '-accept', `127.0.0.1:${port}`, '-cert', 'server.pem', '-key', 'server.key',
     '-CAfile', 'ca.pem', '-Verify', '1', '-verify_return_error'],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  ); // prettier-ignore
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  // A probe connection would be a refused client and end it, so look for the listening socket instead.
  const deadline = Date.now() + STRICT_READY_MS;
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`openssl s_server did not listen on 127.0.0.1:${port}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { port, stop };
}

/** Whether something listens on 127.0.0.1:port (IPv4 TCP table; state 0A is LISTEN). */
async function listening(port: number): Promise<boolean> {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const table = await readFile('/proc/net/tcp', 'utf8');
  return table.split('\n').some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[1] === local && fields[3] === '0A';
  });
}
