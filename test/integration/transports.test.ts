/**
 * The HostTransport contract, the same cases on every transport against real parts: a local process,
 * a real sshd on loopback, `docker exec` into a real container over the engine's unix socket, over
 * TCP+TLS (a TLS proxy in front of that socket) and over SSH (`docker system dial-stdio` through sshd).
 * Every remote here is this machine, so the host's `pgrep` can check that a timed-out command is gone.
 */
import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from '../../src/transports/index.js';
import type { HostTransport, TransportSpec } from '../../src/transports/index.js';
import { TransportError } from '../../src/transports/types.js';
import { startTransportParts, type TransportParts } from '../helpers/transport-parts.js';

const run = promisify(execFile);
const docker = new Docker({ socketPath: '/var/run/docker.sock' });
let parts: TransportParts;

beforeAll(async () => {
  parts = await startTransportParts(docker);
});

afterAll(async () => {
  await parts?.stop();
});

/** Processes on this host whose command line contains `pattern` (all transports here run on this kernel). */
async function processesMatching(pattern: string): Promise<string> {
  const result = await run('pgrep', ['-af', pattern]).catch((error: { code?: number; stdout?: string }) => {
    if (error.code === 1) return { stdout: '' }; // pgrep: nothing matched
    throw error;
  });
  return result.stdout.trim();
}

interface Case {
  readonly name: string;
  readonly spec: () => TransportSpec;
}

const CASES: Case[] = [
  { name: 'local', spec: () => ({ kind: 'local' }) },
  { name: 'ssh', spec: () => parts.sshSpec() },
  {
    name: 'docker (unix socket)',
    spec: () => ({ kind: 'docker', engine: { kind: 'unix' }, container: parts.container.name }),
  },
  {
    name: 'docker (TCP+TLS)',
    spec: () => ({
      kind: 'docker',
      engine: { kind: 'tls', host: parts.tlsProxy.host, port: parts.tlsProxy.port, ...parts.tlsProxy.client },
      container: parts.container.name,
    }),
  },
  {
    name: 'docker (over SSH)',
    spec: () => {
      const { shell: _shell, kind: _kind, ...endpoint } = parts.sshSpec();
      return { kind: 'docker', engine: { kind: 'ssh', ...endpoint }, container: parts.container.name };
    },
  },
];

describe.each(CASES)('$name transport', ({ spec }) => {
  let transport: HostTransport;
  beforeAll(() => {
    transport = createTransport(spec());
  });
  afterAll(async () => {
    await transport.close();
    await transport.close(); // twice is fine
  });

  it('runs an argument vector verbatim and reports exit code, output and duration', async () => {
    const nasty = ['a b', "it's", '$(id)', '`id`', 'l1\nl2', 'x; echo injected', '*', '', 'ünï ✓'];
    const result = await transport.exec({
      argv: ['printf', '[%s]', ...nasty],
      timeoutMs: 20_000,
      maxOutputBytes: 4096,
    });
    expect(result).toMatchObject({
      exitCode: 0,
      stdout: nasty.map((arg) => `[${arg}]`).join(''),
      stderr: '',
      truncated: { stdout: false, stderr: false },
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.durationMs).toBeLessThan(20_000);
  });

  it('returns a non-zero exit with both streams', async () => {
    const argv = ['sh', '-c', 'echo out; echo err >&2; exit 3'];
    const result = await transport.exec({ argv, timeoutMs: 20_000, maxOutputBytes: 4096 });
    expect(result).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('feeds stdin and closes it', async () => {
    const stdin = 'first line\nsecond ✓\n';
    const result = await transport.exec({ argv: ['cat'], stdin, timeoutMs: 20_000, maxOutputBytes: 4096 });
    expect(result).toMatchObject({ exitCode: 0, stdout: stdin });
  });

  it('caps each stream and says it truncated', async () => {
    const argv = ['sh', '-c', 'seq 1 100000; seq 1 100000 >&2'];
    const result = await transport.exec({ argv, timeoutMs: 30_000, maxOutputBytes: 1000 });
    expect(result.exitCode).toBe(0);
    expect(Buffer.byteLength(result.stdout)).toBe(1000);
    expect(result.stdout.startsWith('1\n2\n3\n')).toBe(true);
    expect(result.stderr).toBe(result.stdout);
    expect(result.truncated).toEqual({ stdout: true, stderr: true });
  });

  it('streams ~31 MB of lines without keeping them', async () => {
    let count = 0;
    let sum = 0;
    let last = '';
    const result = await transport.exec({
      argv: ['seq', '1', '4000000'],
      timeoutMs: 120_000,
      maxOutputBytes: 64 * 1024,
      onStdoutLine: (line) => {
        count += 1;
        sum += Number(line);
        last = line;
      },
    });
    expect(result.exitCode).toBe(0);
    expect([count, last, sum]).toEqual([4_000_000, '4000000', (4_000_000 * 4_000_001) / 2]);
    expect(result.truncated.stdout).toBe(true);
    expect(Buffer.byteLength(result.stdout)).toBe(64 * 1024);
  });

  it('kills a command that runs past its deadline and throws a retryable timeout', async () => {
    // A unique duration, so pgrep finds only this test's sleeps.
    const seconds = `${randomInt(300, 900)}.${randomInt(100, 999)}`;
    // A child in the background and one in the foreground: both must go, not just the shell.
    const argv = ['sh', '-c', `sleep ${seconds} & sleep ${seconds}; wait`];
    const started = Date.now();
    const error: unknown = await transport
      .exec({ argv, timeoutMs: 1_000, maxOutputBytes: 1024 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ kind: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(8_000);
    await expect
      .poll(() => processesMatching(`sleep ${seconds}`), { timeout: 5_000, interval: 100 })
      .toBe('');
  });
});
