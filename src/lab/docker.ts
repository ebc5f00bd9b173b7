/** Small dockerode helpers for the lab: exec with a deadline, container lookup, bounded polling. */
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';

export interface LabExecResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export interface LabExecOptions {
  stdin?: string | Buffer;
  timeoutMs?: number;
  user?: string;
  env?: string[];
}

/** Runs an argument vector in a running container (no shell unless argv asks for one) and collects output. */
export async function dexec(
  docker: Docker,
  container: string,
  argv: readonly string[],
  options: LabExecOptions = {},
): Promise<LabExecResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const exec = await docker.getContainer(container).exec({
    Cmd: [...argv],
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: options.stdin !== undefined,
    User: options.user ?? '',
    Env: options.env,
  });
  const stream = await exec.start({ hijack: true, stdin: options.stdin !== undefined });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  docker.modem.demuxStream(stream, stdout, stderr);
  const done = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  if (options.stdin !== undefined) {
    stream.write(options.stdin);
    stream.end();
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`exec in ${container} timed out after ${timeoutMs} ms: ${argv.join(' ')}`));
    }, timeoutMs);
  });
  try {
    await Promise.race([done, timeout]);
  } finally {
    clearTimeout(timer);
  }
  const info = await exec.inspect();
  return {
    exitCode: info.ExitCode ?? null,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
  };
}

/** Like dexec, but throws with the command's output when it exits non-zero. */
export async function dexecOk(
  docker: Docker,
  container: string,
  argv: readonly string[],
  options: LabExecOptions = {},
): Promise<string> {
  const r = await dexec(docker, container, argv, options);
  if (r.exitCode !== 0) {
    throw new Error(
      `${container}: '${argv.join(' ')}' exited ${r.exitCode}: ${(r.stderr || r.stdout).trim().slice(-2000)}`,
    );
  }
  return r.stdout;
}

/** Container inspect data, or undefined when there is no such container. */
export async function inspectContainer(
  docker: Docker,
  name: string,
): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await docker.getContainer(name).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` until it returns a value other than undefined/false, or throws after `timeoutMs` with the
 * last probe's note. Every wait in the lab goes through here: bounded in time.
 */
export async function pollUntil<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined | false>,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const note = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${note}`);
    }
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}
