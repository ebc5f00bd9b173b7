/**
 * The compose file's Docker socket proxy (`mail-runbooks-docker-proxy`, src/deploy/docker-proxy.ts,
 * docs/deploy.md) on the real engine, without the lab: the worker's own Docker transport runs commands in
 * the one allowed container through it (with and without stdin, whose end is a half-close the proxy passes
 * on), another container's exec is refused, and every other Engine API call is answered 403 without
 * reaching the engine: listing, creating, stopping, deleting, images, and paths that try to escape the list.
 */
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDockerProxy } from '../../src/deploy/docker-proxy.js';
import { DockerTransport } from '../../src/transports/docker.js';
import { startTestContainer, type TestContainer } from '../helpers/docker.js';

const docker = new Docker();
let mail: TestContainer | undefined;
let other: TestContainer | undefined;
let proxy: { close(): Promise<void> } | undefined;
let socketDir = '';
let socket = '';
const refusedLog: string[] = [];

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
  mail = await startTestContainer(docker);
  other = await startTestContainer(docker);
  socketDir = await mkdtemp(join(tmpdir(), 'mrb-docker-proxy-'));
  socket = join(socketDir, 'docker.sock');
  proxy = await startDockerProxy({
    container: mail.name,
    listen: socket,
    engine: '/var/run/docker.sock',
    log: (line) => refusedLog.push(line),
  });
}, 300_000);

afterAll(async () => {
  await proxy?.close();
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
    const refusedBefore = refusedLog.filter((l) => l.startsWith('docker-proxy: 403 ')).length;
    const answers = await Promise.all(
      refused.map(async ([method, path]) => [method, path, (await call(method, path)).status]),
    );
    expect(answers.filter(([, , status]) => status !== 403)).toEqual([]);
    expect(refusedLog.filter((l) => l.startsWith('docker-proxy: 403 ')).length - refusedBefore).toBe(
      refused.length,
    );
    // The refused stop did not reach the engine.
    expect((await docker.getContainer(m).inspect()).State.Running).toBe(true);
  });
});
