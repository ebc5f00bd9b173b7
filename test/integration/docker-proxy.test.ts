/**
 * The compose file's Docker socket proxy (deploy/docker-proxy, docs/deploy.md) on the real engine, without
 * the lab: built locally from the Debian base image, it lets the worker's own Docker transport run
 * commands in the one mail container (with and without stdin) and answers 403 to everything else, another
 * container's exec, listing, creating, stopping, deleting, images, and paths that try to escape the list.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBaseImage } from '../../src/lab/base-image.js';
import { DockerTransport } from '../../src/transports/docker.js';
import { startTestContainer, type TestContainer } from '../helpers/docker.js';
import { pollUntil } from '../helpers/poll.js';

const run = promisify(execFile);
const PROXY_DIR = fileURLToPath(new URL('../../deploy/docker-proxy', import.meta.url));
const PROXY_IMAGE = 'mrb-test/docker-proxy'; // kept as a build cache, like the lab's images
const docker = new Docker();
let mail: TestContainer | undefined;
let other: TestContainer | undefined;
let proxyName = '';
let socketDir = '';
let socket = '';

/** One HTTP request to the proxy's unix socket: status and body. */
function call(method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

beforeAll(async () => {
  await ensureBaseImage(docker);
  await run('docker', ['build', '-q', '-t', PROXY_IMAGE, PROXY_DIR], { timeout: 540_000 });
  mail = await startTestContainer(docker);
  other = await startTestContainer(docker);
  socketDir = await mkdtemp(join(tmpdir(), 'mrb-docker-proxy-'));
  socket = join(socketDir, 'docker.sock');
  proxyName = `mrb-test-docker-proxy-${process.pid}`;
  await run('docker', [
    'run', '-d', '--name', proxyName, '--network', 'none',
    '-e', `MAIL_CONTAINER=${mail.name}`,
    '-v', '/var/run/docker.sock:/var/run/docker.sock',
    '-v', `${socketDir}:/run/docker-proxy`,
    PROXY_IMAGE,
  ]); // prettier-ignore
  await pollUntil(30_000, 'the proxy socket', async () =>
    existsSync(socket) && (await call('GET', '/_ping')).status === 200 ? true : undefined,
  );
}, 600_000);

afterAll(async () => {
  if (proxyName) await run('docker', ['rm', '-f', proxyName]).catch(() => undefined);
  await mail?.remove();
  await other?.remove();
  if (socketDir) await rm(socketDir, { recursive: true, force: true });
});

describe('the Docker socket proxy', () => {
  it('runs commands in the mail container through the worker transport, with and without stdin', async () => {
    const transport = new DockerTransport({
      engine: { kind: 'unix', socketPath: socket },
      container: mail!.name,
    });
    try {
      const echo = await transport.exec({
        argv: ['echo', 'through the proxy'],
        timeoutMs: 20_000,
        maxOutputBytes: 4096,
      });
      expect(echo).toMatchObject({ exitCode: 0, stdout: 'through the proxy\n' });
      const cat = await transport.exec({
        argv: ['cat'],
        stdin: 'from stdin',
        timeoutMs: 20_000,
        maxOutputBytes: 4096,
      });
      expect(cat).toMatchObject({ exitCode: 0, stdout: 'from stdin' });
      const failing = await transport.exec({
        argv: ['sh', '-c', 'exit 3'],
        timeoutMs: 20_000,
        maxOutputBytes: 4096,
      });
      expect(failing.exitCode).toBe(3);
    } finally {
      await transport.close();
    }
  });

  it("refuses another container's exec through the same transport", async () => {
    const transport = new DockerTransport({
      engine: { kind: 'unix', socketPath: socket },
      container: other!.name,
    });
    try {
      await expect(
        transport.exec({ argv: ['echo', 'no'], timeoutMs: 20_000, maxOutputBytes: 4096 }),
      ).rejects.toThrow();
    } finally {
      await transport.close();
    }
  });

  it('allows ping, version and inspecting the mail container (with or without an API version)', async () => {
    expect(await call('GET', '/_ping')).toEqual({ status: 200, body: 'OK' });
    expect((await call('GET', '/v1.41/version')).status).toBe(200);
    expect((await call('GET', `/containers/${mail!.name}/json`)).status).toBe(200);
    expect((await call('GET', `/v1.41/containers/${mail!.name}/json`)).status).toBe(200);
  });

  it('answers 403 to everything else, and the engine never sees it', async () => {
    const m = mail!.name;
    const o = other!.name;
    const refused: Array<[string, string]> = [
      ['GET', '/containers/json'],
      ['GET', '/v1.41/containers/json?all=1'],
      ['GET', `/containers/${o}/json`],
      ['POST', `/containers/${o}/exec`],
      ['POST', '/containers/create'],
      ['POST', `/containers/${m}/stop`],
      ['POST', `/containers/${m}/kill`],
      ['DELETE', `/containers/${m}?force=1`],
      ['POST', `/containers/${m}/archive`],
      ['PUT', `/containers/${m}/archive?path=/`],
      ['GET', `/containers/${m}/logs`],
      ['GET', '/images/json'],
      ['POST', '/images/create?fromImage=x'],
      ['GET', '/volumes'],
      ['POST', '/networks/create'],
      ['GET', '/info'],
      ['GET', `/containers/${m}/../${o}/json`],
      ['GET', `/containers/${m}/%2e%2e/${o}/json`],
      ['POST', `/containers/${m}%2F..%2F${o}/exec`],
      ['GET', `//containers/${o}/json`],
      ['POST', `/containers/${m}x/exec`],
      ['GET', `/containers/${m}/json/../../${o}/json`],
    ];
    const answers = await Promise.all(
      refused.map(async ([method, path]) => [method, path, (await call(method, path)).status]),
    );
    expect(answers.filter(([, , status]) => status !== 403)).toEqual([]);
    // The refused stop did not reach the engine.
    expect((await docker.getContainer(m).inspect()).State.Running).toBe(true);
  });
});
