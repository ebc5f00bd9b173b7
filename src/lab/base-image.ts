/**
 * The lab's root image, built locally because no container registry is reachable:
 * debootstrap --variant=minbase bookworm (mirror taken from this machine's apt sources) -> docker import.
 * Built once; later calls find the tag and return at once.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { debootstrapProblem, throwIfProblems } from '../preflight/problems.js';
import { onPath } from '../preflight/probes.js';
import { withProgress } from '../preflight/progress.js';

export const BASE_IMAGE = 'mail-runbooks/base:bookworm';
const SUITE = 'bookworm';

export async function imageExists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** The Debian mirror this machine's apt uses (deb822 `.sources` or one-line `sources.list`). */
export async function debianMirrorFromAptSources(root = '/etc/apt'): Promise<string> {
  const files = [join(root, 'sources.list')];
  try {
    for (const f of (await readdir(join(root, 'sources.list.d'))).sort())
      files.push(join(root, 'sources.list.d', f));
  } catch {
    // no sources.list.d
  }
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line.startsWith('#')) continue;
      const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (oneLine?.[1] && !oneLine[2]?.includes('security')) return oneLine[1];
      const deb822 = /^URIs:\s*(\S+)/i.exec(line);
      if (deb822?.[1] && !deb822[1].includes('security')) return deb822[1];
    }
  }
  throw new Error(`No Debian mirror found in ${root}/sources.list or ${root}/sources.list.d/*`);
}

/** Runs a program (argument vector, no shell); on failure the error quotes the end of its output. */
export function runProgram(argv: string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (!cmd) return reject(new Error('empty command'));
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (chunk: Buffer): void => {
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) =>
      reject(
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? new Error(`'${cmd}' is not installed. Install it (Debian: apt-get install ${cmd}) and try again.`)
          : err,
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else {
        log(tail);
        reject(new Error(`${argv.join(' ')} exited with ${code}:\n${tail}`));
      }
    });
  });
}

/** Ensures BASE_IMAGE exists, building it with debootstrap + docker import when missing. */
export async function ensureBaseImage(
  docker: Docker,
  log: (line: string) => void = (l) => console.error(l),
): Promise<string> {
  if (await imageExists(docker, BASE_IMAGE)) return BASE_IMAGE;
  throwIfProblems([
    debootstrapProblem({
      debootstrap: await onPath('debootstrap', `${process.env.PATH ?? ''}:/usr/sbin:/sbin`),
      root: process.getuid?.() === 0,
    }),
  ]);
  const mirror = await debianMirrorFromAptSources();
  const dir = await mkdtemp(join(tmpdir(), 'mrb-rootfs-'));
  try {
    log(
      `lab: building base image ${BASE_IMAGE}: debootstrap --variant=minbase ${SUITE} from ${mirror} (about a minute)`,
    );
    await withProgress(log, `lab: building base image ${BASE_IMAGE} with debootstrap`, () =>
      runProgram(['debootstrap', '--variant=minbase', SUITE, dir, mirror], log),
    );
    log(`lab: importing root filesystem as ${BASE_IMAGE}`);
    await new Promise<void>((resolve, reject) => {
      const tar = spawn('tar', ['-C', dir, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
      tar.on('error', reject);
      const [repo, tag] = BASE_IMAGE.split(':');
      // dockerode's typings say string, but importImage streams any readable as the request body.
      const body = tar.stdout as unknown;
      docker.importImage(body as string, { repo, tag }, (err: unknown, stream) => {
        if (err || !stream) {
          reject(err instanceof Error ? err : new Error('docker import failed: no stream returned'));
          return;
        }
        docker.modem.followProgress(stream, (e: Error | null) => (e ? reject(e) : resolve()));
      });
    });
    return BASE_IMAGE;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
