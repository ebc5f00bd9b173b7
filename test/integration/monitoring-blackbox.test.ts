/**
 * monitoring/blackbox.yml's smtp_banner module with Debian's real prometheus-blackbox-exporter, against SMTP
 * servers on loopback that this test plays: a greeting relay succeeds; a refused port, a silent (hung) one
 * and a 421 greeting fail. So the SmtpRelayDown and PostfixInboundDeferred rules get the probe_success
 * they are written for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../helpers/poll.js';
import { freePort } from '../helpers/ports.js';

const EXPORTER = '/usr/bin/prometheus-blackbox-exporter';
const modules = fileURLToPath(new URL('../../monitoring/blackbox.yml', import.meta.url));

let exporter: ChildProcess | undefined;
let exporterPort = 0;
const servers: Server[] = [];
const sockets = new Set<Socket>();

/** A loopback TCP server that greets each connection with `greeting` (or says nothing) and records input. */
async function smtpServer(greeting: string | undefined, received: string[] = []): Promise<number> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (data) => received.push(data.toString('latin1')));
    socket.on('error', () => undefined);
    if (greeting !== undefined) socket.write(greeting);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address');
  return address.port;
}

async function probe(target: string): Promise<{ success: number; body: string }> {
  const url = `http://127.0.0.1:${exporterPort}/probe?module=smtp_banner&target=${target}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  const body = await response.text();
  const match = /^probe_success (\d)$/m.exec(body);
  if (!match) throw new Error(`no probe_success in:\n${body}`);
  return { success: Number(match[1]), body };
}

beforeAll(async () => {
  if (!existsSync(EXPORTER)) {
    throw new Error(
      `${EXPORTER} is missing: apt-get install prometheus-blackbox-exporter (.ci/run installs it)`,
    );
  }
  exporterPort = await freePort();
  exporter = spawn(EXPORTER, [`--config.file=${modules}`, `--web.listen-address=127.0.0.1:${exporterPort}`], {
    stdio: 'ignore',
  });
  await pollUntil(20_000, 'the blackbox exporter answers', async () => {
    const response = await fetch(`http://127.0.0.1:${exporterPort}/metrics`);
    return response.ok ? true : undefined;
  });
});

afterAll(async () => {
  exporter?.kill('SIGTERM');
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('smtp_banner (monitoring/blackbox.yml) with the real blackbox exporter', () => {
  it('succeeds on a 220 greeting, and says QUIT', async () => {
    const received: string[] = [];
    const port = await smtpServer('220 relay.example.org ESMTP\r\n', received);
    expect((await probe(`127.0.0.1:${port}`)).success).toBe(1);
    await pollUntil(5_000, 'the probe said QUIT', async () =>
      received.join('').startsWith('QUIT\r\n') ? true : undefined,
    );
  });

  it('succeeds on a multi-line 220 greeting', async () => {
    const port = await smtpServer('220-relay.example.org ESMTP\r\n220 ready\r\n');
    expect((await probe(`127.0.0.1:${port}`)).success).toBe(1);
  });

  it('fails on a refused port', async () => {
    const port = await freePort();
    expect((await probe(`127.0.0.1:${port}`)).success).toBe(0);
  });

  it('fails on a 421 greeting (the service refuses mail)', async () => {
    const port = await smtpServer('421 4.3.2 Service not available\r\n');
    expect((await probe(`127.0.0.1:${port}`)).success).toBe(0);
  });

  it('fails on a port that accepts and says nothing (a hung relay), within the module timeout', async () => {
    const port = await smtpServer(undefined);
    const started = Date.now();
    expect((await probe(`127.0.0.1:${port}`)).success).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
