/**
 * Makes sure a Docker engine answers before the lab uses it. When none does and it is safe (root, dockerd
 * installed, the default socket), starts dockerd and waits for it, bounded; otherwise throws one
 * PreflightError saying what is wrong and what to do.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { delimiter } from 'node:path';
import type Docker from 'dockerode';
import { sleep } from '../lab/docker.js';
import { dockerProblem, PreflightError, type DockerFacts } from './problems.js';
import { onPath } from './probes.js';
import { withProgress } from './progress.js';

const DEFAULT_SOCKET = '/var/run/docker.sock';
const PING_TIMEOUT_MS = 10_000;

interface ModemInternals {
  host?: string;
  port?: string | number;
  protocol?: string;
  getSocketPath?: () => Promise<string | undefined>;
}

/** Where this client talks to the engine: unix:///path or tcp://host:port. */
export async function dockerEndpoint(docker: Docker): Promise<string> {
  const modem = docker.modem as unknown as ModemInternals;
  if (modem.host) return `${modem.protocol ?? 'tcp'}://${modem.host}${modem.port ? `:${modem.port}` : ''}`;
  return `unix://${(await modem.getSocketPath?.()) ?? DEFAULT_SOCKET}`;
}

/** undefined when the engine answered; else the connection error's code and message. */
export async function pingDocker(docker: Docker): Promise<{ code: string; message: string } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(Object.assign(new Error('no answer in 10 s'), { code: 'ETIMEDOUT' })),
          PING_TIMEOUT_MS,
        );
      }),
    ]);
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { statusCode?: number };
    return { code: e.code ?? (e.statusCode ? `HTTP ${e.statusCode}` : 'ERROR'), message: e.message };
  } finally {
    clearTimeout(timer);
  }
}

/** Searched after PATH: dockerd lives in /usr/sbin on Debian, which is not on a user's PATH. */
export const SBIN_DIRS: readonly string[] = ['/usr/sbin', '/sbin'];

const searchPath = (env: NodeJS.ProcessEnv, extraDirs: readonly string[]): string =>
  [env.PATH ?? '', ...extraDirs].join(delimiter);

export async function dockerFacts(
  docker: Docker,
  env: NodeJS.ProcessEnv = process.env,
  extraDirs: readonly string[] = SBIN_DIRS,
): Promise<DockerFacts> {
  const failure = await pingDocker(docker);
  const path = searchPath(env, extraDirs);
  return {
    endpoint: await dockerEndpoint(docker),
    ...(failure ? { code: failure.code, message: failure.message } : {}),
    dockerInstalled: (await onPath('docker', path)) !== undefined,
    dockerdInstalled: (await onPath('dockerd', path)) !== undefined,
    root: process.getuid?.() === 0,
    user: env.USER ?? userInfo().username,
  };
}

export interface EnsureDockerOptions {
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Start dockerd when that is safe (default: yes, unless MRB_DOCKERD_AUTOSTART=off). */
  autoStart?: boolean;
  /** Searched for docker and dockerd after PATH (default SBIN_DIRS). */
  extraDirs?: readonly string[];
  /** The engine's system socket, the only one dockerd is started for (default /var/run/docker.sock). */
  systemSocket?: string;
  /** Where a dockerd this process starts writes its output (default /var/log/dockerd-mail-runbooks.log). */
  dockerdLog?: string;
  /** How long to wait for a dockerd this process started (default 60 s). */
  startTimeoutMs?: number;
}

function tail(file: string, lines = 8): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Resolves when the engine answers (after starting dockerd where safe); else throws a PreflightError. */
export async function ensureDockerEngine(docker: Docker, options: EnsureDockerOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((l: string) => console.error(l));
  const extraDirs = options.extraDirs ?? SBIN_DIRS;
  const facts = await dockerFacts(docker, env, extraDirs);
  if (!facts.code) return;
  const autoStart = (options.autoStart ?? env.MRB_DOCKERD_AUTOSTART !== 'off') && facts.root;
  const daemonDown = facts.code === 'ENOENT' || facts.code === 'ECONNREFUSED';
  const dockerd = await onPath('dockerd', searchPath(env, extraDirs));
  // Only the system's own socket: a DOCKER_HOST elsewhere is someone's deliberate setup, not ours to start.
  const safeEndpoint = `unix://${options.systemSocket ?? DEFAULT_SOCKET}`;
  if (autoStart && daemonDown && dockerd && facts.endpoint === safeEndpoint) {
    const logFile = options.dockerdLog ?? '/var/log/dockerd-mail-runbooks.log';
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    log(
      `docker: no engine answers at ${facts.endpoint}; starting ${dockerd} (running as root; log ${logFile})`,
    );
    // Detached: the engine outlives this process, like one started by systemd would.
    const out = openSync(logFile, 'a');
    const child = spawn(dockerd, [], { detached: true, stdio: ['ignore', out, out] });
    closeSync(out);
    child.unref();
    const started = Date.now();
    const up = await withProgress(
      log,
      'docker: waiting for dockerd to answer',
      async () => {
        while (Date.now() - started < timeoutMs) {
          if (!(await pingDocker(docker))) return true;
          if (child.exitCode !== null) return false;
          await sleep(1000);
        }
        return false;
      },
      10_000,
    );
    if (up) {
      log(`docker: dockerd (pid ${child.pid}) answers after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return;
    }
    throw new PreflightError([
      dockerProblem({
        ...facts,
        autoStart: { log: logFile, seconds: Math.round(timeoutMs / 1000), tail: tail(logFile) },
      })!,
    ]);
  }
  throw new PreflightError([dockerProblem(facts)!]);
}
