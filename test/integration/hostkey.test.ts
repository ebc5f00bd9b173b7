/**
 * `mail-runbooks hostkey <host> [port]` against a real OpenSSH server on loopback (test/helpers/sshd.ts):
 * it prints the pinned-format line only after the operator confirms (or --yes), the line is the server's
 * own fingerprint (ssh-keygen's), and pinning it lets the SSH transport connect. A refusal, or nobody to
 * ask, prints nothing to pin; an unreachable port is one line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { run } from '../../src/client.js';
import type { Io } from '../../src/cli/output.js';
import { createTransport } from '../../src/transports/index.js';
import { freePort } from '../helpers/ports.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;

async function hostkey(
  args: string[],
  answer?: string,
): Promise<{ code: number; stdout: string; stderr: string; asked: string[] }> {
  let stdout = '';
  let stderr = '';
  const asked: string[] = [];
  const io: Io = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    ...(answer === undefined
      ? {}
      : {
          ask: (question: string) => {
            asked.push(question);
            return Promise.resolve(answer);
          },
        }),
  };
  const code = await run(['hostkey', ...args], io);
  return { code, stdout, stderr, asked };
}

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd.stop();
});

describe('hostkey', () => {
  it('shows the fingerprint, asks, and on yes prints the config line: the key ssh-keygen reports', async () => {
    const r = await hostkey([sshd.host, String(sshd.port)], 'y');
    expect(r.code, r.stderr).toBe(0);
    expect(r.asked).toEqual(['Is it the same? [y/N] ']);
    expect(r.stderr).toContain(`${sshd.host}:${sshd.port} presents this ssh-ed25519 host key:`);
    expect(r.stderr).toContain(`  ${sshd.hostKeyFingerprint}\n`);
    expect(r.stdout).toBe(`hostKey: '${sshd.hostKeyFingerprint}'\n`);
    // The line is YAML for the ssh section of a target.
    expect(parse(r.stdout)).toEqual({ hostKey: sshd.hostKeyFingerprint });
  });

  it('the printed fingerprint, pinned, lets the SSH transport in', async () => {
    const r = await hostkey([sshd.host, String(sshd.port), '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const scanned = JSON.parse(r.stdout) as { fingerprint: string; keyType: string; port: number };
    expect(scanned).toMatchObject({ keyType: 'ssh-ed25519', port: sshd.port });
    const transport = createTransport({
      kind: 'ssh',
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      privateKey: sshd.clientKey,
      hostKeyFingerprint: scanned.fingerprint,
      shell: 'posix',
    });
    try {
      const result = await transport.exec({
        argv: ['echo', 'pinned'],
        timeoutMs: 20_000,
        maxOutputBytes: 1024,
      });
      expect(result).toMatchObject({ exitCode: 0, stdout: 'pinned\n' });
    } finally {
      await transport.close();
    }
  });

  it('prints nothing to pin when the operator says no', async () => {
    const r = await hostkey([sshd.host, String(sshd.port)], 'n');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/mail-runbooks: not confirmed: nothing to pin\. A different key means/);
  });

  it('without a terminal to ask and without --yes, prints nothing to pin', async () => {
    const r = await hostkey([sshd.host, String(sshd.port)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(sshd.hostKeyFingerprint); // shown, so it can be compared
    expect(r.stderr).toMatch(/not confirmed: run hostkey in a terminal to confirm, or pass --yes/);
  });

  it('an unreachable port and a bad port are one line each', async () => {
    const closed = await freePort();
    const r = await hostkey(['127.0.0.1', String(closed), '--yes', '--timeout', '5']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^mail-runbooks: 127\\.0\\.0\\.1:${closed}: .*ECONNREFUSED`));
    const bad = await hostkey(['127.0.0.1', '70000', '--yes']);
    expect(bad.stderr).toBe('mail-runbooks: port "70000" is not a TCP port (1-65535)\n');
  });
});
