/**
 * A real OpenSSH server for tests: `/usr/sbin/sshd -D` on 127.0.0.1 and a free port, with a generated
 * config, host key and client keys in a temp dir, accepting public keys only, for the current user.
 */
import { spawn, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';
const READY_ATTEMPTS = 100;
const READY_INTERVAL_MS = 100;
const STOP_WAIT_MS = 5_000;

export interface TestSshd {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** `SHA256:...` of the server's host key, as ssh-keygen prints it. */
  readonly hostKeyFingerprint: string;
  /** Fingerprint of another key, for the mismatch case. */
  readonly otherFingerprint: string;
  /** Authorized client key (OpenSSH private key contents). */
  readonly clientKey: string;
  /** Authorized client key encrypted with `passphrase`. */
  readonly encryptedClientKey: string;
  readonly passphrase: string;
  /** A valid key that is not authorized. */
  readonly strangerKey: string;
  stop(): Promise<void>;
}

async function keygen(
  dir: string,
  name: string,
  passphrase = '',
): Promise<{ key: string; fingerprint: string }> {
  const path = join(dir, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', `mrb-test-${name}`, '-f', path]);
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`]);
  const fingerprint = /SHA256:[A-Za-z0-9+/]+/.exec(stdout)?.[0];
  if (!fingerprint) throw new Error(`no fingerprint in ssh-keygen output: ${stdout}`);
  return { key: await readFile(path, 'utf8'), fingerprint };
}

export async function startSshd(): Promise<TestSshd> {
  const dir = await mkdtemp(join(tmpdir(), 'mrb-sshd-'));
  const [host, other, client, encrypted, stranger] = await Promise.all([
    keygen(dir, 'host_ed25519'),
    keygen(dir, 'other_host_ed25519'),
    keygen(dir, 'client'),
    keygen(dir, 'client_encrypted', 'correct horse'),
    keygen(dir, 'stranger'),
  ]);
  const authorized = await Promise.all(
    ['client', 'client_encrypted'].map((n) => readFile(join(dir, `${n}.pub`), 'utf8')),
  );
  await writeFile(join(dir, 'authorized_keys'), authorized.join(''), { mode: 0o600 });

  const port = await freePort();
  const user = userInfo().username;
  const config = [
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    `HostKey ${join(dir, 'host_ed25519')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `AllowUsers ${user}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'UsePAM no',
    // The temp dir sits under world-writable /tmp, which StrictModes would reject.
    'StrictModes no',
    'AllowTcpForwarding no',
    'X11Forwarding no',
    'MaxSessions 30',
    'LogLevel ERROR',
  ].join('\n');
  const configPath = join(dir, 'sshd_config');
  await writeFile(configPath, `${config}\n`);
  // sshd insists on its privilege-separation directory, normally made by the service unit.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  const child = spawn(SSHD, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4_000);
  });
  const stop = async (): Promise<void> => {
    await stopProcess(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForBanner(port, child, () => log);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    host: '127.0.0.1',
    port,
    user,
    hostKeyFingerprint: host.fingerprint,
    otherFingerprint: other.fingerprint,
    clientKey: client.key,
    encryptedClientKey: encrypted.key,
    passphrase: 'correct horse',
    strangerKey: stranger.key,
    stop,
  };
}

async function waitForBanner(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let attempt = 0; attempt < READY_ATTEMPTS; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}:\n${log()}`);
    if (await banner(port)) return;
    await new Promise((resolve) => setTimeout(resolve, READY_INTERVAL_MS));
  }
  throw new Error(`sshd did not answer on 127.0.0.1:${port} in time:\n${log()}`);
}

function banner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('data', (chunk: Buffer) => done(chunk.toString().startsWith('SSH-')));
    socket.once('error', () => done(false));
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_WAIT_MS);
  await exited;
  clearTimeout(timer);
}
