/**
 * docker-mailserver 15.1.0, built here from the vendored release archive (no registry is reachable):
 * extract to a fresh build context under the lab's cache folder, apply the patches of dms-patches.ts,
 * `chmod -R go-w`, build FROM the lab's debootstrapped base with the classic builder. The image carries the
 * hash of its patched context: when nothing changed no build starts at all, and when something did, Docker's
 * layer cache keeps every step before the change.
 */
import { randomBytes } from 'node:crypto';
import { access, chmod, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { BASE_IMAGE, ensureBaseImage, runProgram } from './base-image.js';
import { applyDmsPatches, dmsPatches } from './dms-patches.js';
import { labPaths } from './settings.js';
import {
  buildContext,
  contextHash,
  ensureImages,
  imageLabel,
  IMAGES,
  IMAGES_DIR,
  listFiles,
} from './images.js';

export const DMS_VERSION = '15.1.0';
/** The release's commit (github.com/docker-mailserver/docker-mailserver tag v15.1.0). */
export const DMS_REVISION = '060bf9a47443382fb7e37f30d6ab9709b4b8aeab';
export const DMS_IMAGE = `mrb-lab/dms:${DMS_VERSION}`;
export const DMS_ARCHIVE_NAME = `docker-mailserver-${DMS_VERSION}.tar.gz`;

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Where the vendored archive is: $MRB_DMS_ARCHIVE, else ../shared/vendor/ next to the repository (the
 * project's layout), else vendor/ inside it.
 */
export async function findDmsArchive(root = REPO_ROOT, env = process.env): Promise<string> {
  const candidates = env.MRB_DMS_ARCHIVE
    ? [resolve(env.MRB_DMS_ARCHIVE)]
    : [resolve(root, '..', 'shared', 'vendor', DMS_ARCHIVE_NAME), resolve(root, 'vendor', DMS_ARCHIVE_NAME)];
  for (const path of candidates) {
    try {
      await access(path);
      return path;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    `the docker-mailserver ${DMS_VERSION} release archive is not at ${candidates.join(' or ')}; ` +
      "put it there or set MRB_DMS_ARCHIVE to its path (or MRB_LAB_MAILSERVER=lab: the lab's own DMS-like image)",
  );
}

/** The lab's cache folder for build contexts: $MRB_LAB_CACHE_DIR, else .lab/cache. */
export function labCacheDir(root = REPO_ROOT, env = process.env): string {
  return env.MRB_LAB_CACHE_DIR ? resolve(env.MRB_LAB_CACHE_DIR) : join(labPaths(root).dir, 'cache');
}

/** The release's .dockerignore: everything out but target/ (the docker CLI always sends the Dockerfile). */
const DMS_DOCKERIGNORE = '*\n!target\n';

/** What DMS_DOCKERIGNORE lets into the context, plus the Dockerfile. */
export function inDmsContext(file: string): boolean {
  return file === 'Dockerfile' || file.startsWith('target/');
}

/**
 * dockerode applies a context's .dockerignore itself, without the docker CLI's exception for the
 * Dockerfile, so `*` would leave the build without one. Apply the release's rule here (inDmsContext) and
 * drop the file; a different rule means a different archive, and is refused.
 */
async function takeOverDockerignore(dir: string): Promise<void> {
  const path = join(dir, '.dockerignore');
  const rule = await readFile(path, 'utf8');
  if (rule !== DMS_DOCKERIGNORE)
    throw new Error(
      `the release's .dockerignore is ${JSON.stringify(rule)}, not ${JSON.stringify(DMS_DOCKERIGNORE)}`,
    );
  await rm(path);
}

/** `chmod -R go-w`: the archive stores 0664/0775 and Postfix warns about group-writable files. */
async function removeGroupOtherWrite(dir: string): Promise<void> {
  await chmod(dir, (await stat(dir)).mode & 0o7755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) await removeGroupOtherWrite(p);
    else if (entry.isFile()) await chmod(p, (await stat(p)).mode & 0o7755);
  }
}

export interface DmsBuildResult {
  image: string;
  built: boolean;
  seconds: { base: number; prepare: number; build: number; total: number };
}

/**
 * Ensures DMS_IMAGE exists and matches the archive and the patches. Progress lines carry the phase and the
 * time elapsed since the start.
 */
export async function ensureDmsImage(
  docker: Docker,
  log: (line: string) => void = (l) => console.error(l),
  options: { root?: string; force?: boolean } = {},
): Promise<DmsBuildResult> {
  const t0 = Date.now();
  const elapsed = (): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  log(`lab: [dms] phase base image: ${BASE_IMAGE}`);
  await ensureBaseImage(docker, log);
  const baseId = (await docker.getImage(BASE_IMAGE).inspect()).Id;
  const t1 = Date.now();

  const archive = await findDmsArchive(options.root);
  const cache = labCacheDir(options.root);
  await mkdir(cache, { recursive: true, mode: 0o700 });
  // A fresh folder per build: two builds at once (two worktrees sharing .lab) never see each other's files.
  const dir = join(cache, `dms-${DMS_VERSION}-${randomBytes(4).toString('hex')}`);
  try {
    log(`lab: [dms] phase extract: ${archive} (${elapsed()})`);
    await mkdir(dir);
    await runProgram(['tar', '-xzf', archive, '-C', dir, '--strip-components=1', '--no-same-owner'], log);

    log(`lab: [dms] phase patch: ${dmsPatches(BASE_IMAGE).length} patches (${elapsed()})`);
    const files = ['Dockerfile', 'target/scripts/build/packages.sh'] as const;
    const sources = {
      Dockerfile: await readFile(join(dir, files[0]), 'utf8'),
      'target/scripts/build/packages.sh': await readFile(join(dir, files[1]), 'utf8'),
    };
    const patched = applyDmsPatches(sources, BASE_IMAGE);
    for (const f of files) await writeFile(join(dir, f), patched[f]);
    await takeOverDockerignore(dir);
    await removeGroupOtherWrite(dir);

    const buildargs = { DMS_RELEASE: DMS_VERSION, VCS_REVISION: DMS_REVISION };
    const context = (await listFiles(dir)).filter(inDmsContext);
    const hash = await contextHash(dir, `${baseId} ${JSON.stringify(buildargs)}`, context);
    const t2 = Date.now();
    const result = (built: boolean): DmsBuildResult => ({
      image: DMS_IMAGE,
      built,
      seconds: {
        base: (t1 - t0) / 1000,
        prepare: (t2 - t1) / 1000,
        build: built ? (Date.now() - t2) / 1000 : 0,
        total: (Date.now() - t0) / 1000,
      },
    });
    if (!options.force && (await imageLabel(docker, DMS_IMAGE)) === hash) {
      log(`lab: [dms] ${DMS_IMAGE} is up to date (context ${hash}), no build needed (${elapsed()})`);
      return result(false);
    }
    log(`lab: [dms] phase build: ${DMS_IMAGE}, ${context.length} files in the context (${elapsed()})`);
    await buildContext(docker, { name: 'dms', tag: DMS_IMAGE, dir, files: context, hash, buildargs }, log);
    log(`lab: [dms] done: ${DMS_IMAGE} (${elapsed()})`);
    return result(true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const DMS_LAB_IMAGE = `mrb-lab/dms-lab:${DMS_VERSION}`;

/**
 * The image the lab runs as its mail server when MRB_LAB_MAILSERVER=dms: DMS_IMAGE plus the thin layer of
 * lab/images/dms (the relay check's ssh client, the queue-flood tool, the fault markers' folder).
 */
export async function ensureDmsLabImage(
  docker: Docker,
  log: (line: string) => void = (l) => console.error(l),
): Promise<string> {
  await ensureDmsImage(docker, log);
  await ensureImages(docker, log, ['mailbase', 'mail']);
  const parents = await Promise.all(
    [DMS_IMAGE, IMAGES.mail].map(async (image) => (await docker.getImage(image).inspect()).Id),
  );
  const dir = join(IMAGES_DIR, 'dms');
  const files = await listFiles(dir);
  const hash = await contextHash(dir, parents.join(' '), files);
  if ((await imageLabel(docker, DMS_LAB_IMAGE)) === hash) return DMS_LAB_IMAGE;
  log(`lab: building image ${DMS_LAB_IMAGE} from lab/images/dms`);
  await buildContext(
    docker,
    {
      name: 'dms-lab',
      tag: DMS_LAB_IMAGE,
      dir,
      files,
      hash,
      buildargs: { DMS_IMAGE, MAIL_IMAGE: IMAGES.mail },
    },
    log,
  );
  return DMS_LAB_IMAGE;
}
