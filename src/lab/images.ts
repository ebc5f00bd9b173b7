/**
 * The lab images, built locally from lab/images/<name>/ (Dockerfile + rootfs/) on top of the debootstrapped
 * base image. Each image carries a label with the hash of its build context (and its parent's hash): when
 * nothing changed, `up` does not even start a build; when something did, Docker's layer cache keeps the
 * slow apt-get layers and only the changed steps run.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { buildFailureProblem, PreflightError } from '../preflight/problems.js';
import { withProgress } from '../preflight/progress.js';
import { BASE_IMAGE, ensureBaseImage } from './base-image.js';

export const IMAGE_HASH_LABEL = 'org.mail-runbooks.lab.context-hash';

export const IMAGES = {
  mailbase: 'mrb-lab/mailbase:latest',
  mail: 'mrb-lab/mail:latest',
  relay: 'mrb-lab/relay:latest',
} as const;
export type ImageName = keyof typeof IMAGES;

/** Build order; each image names its parent (mailbase's parent is the debootstrapped base). */
const BUILD: { name: ImageName; parent: ImageName | 'base' }[] = [
  { name: 'mailbase', parent: 'base' },
  { name: 'mail', parent: 'mailbase' },
  { name: 'relay', parent: 'mailbase' },
];

export const IMAGES_DIR = fileURLToPath(new URL('../../lab/images/', import.meta.url));

export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const entry of (await readdir(d, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else if (entry.isFile()) out.push(relative(dir, p));
    }
  };
  await walk(dir);
  return out;
}

/** Hash of a build context: paths, executable bits and contents, plus the parent's identity. */
export async function contextHash(dir: string, parent: string, files?: readonly string[]): Promise<string> {
  const h = createHash('sha256').update(`parent ${parent}\n`);
  for (const file of files ?? (await listFiles(dir))) {
    const p = join(dir, file);
    const mode = (await stat(p)).mode & 0o111 ? 'x' : '-';
    h.update(`${file} ${mode}\n`)
      .update(await readFile(p))
      .update('\n');
  }
  return h.digest('hex').slice(0, 16);
}

export async function imageLabel(docker: Docker, image: string): Promise<string | undefined> {
  try {
    const info = await docker.getImage(image).inspect();
    return info.Config?.Labels?.[IMAGE_HASH_LABEL] ?? '';
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

async function build(
  docker: Docker,
  name: ImageName,
  hash: string,
  log: (line: string) => void,
): Promise<void> {
  await buildFromContext(docker, {
    dir: join(IMAGES_DIR, name),
    tag: IMAGES[name],
    short: name,
    labels: { [IMAGE_HASH_LABEL]: hash, 'org.mail-runbooks.lab': '1' },
    buildargs: { MAILBASE: IMAGES.mailbase },
    log,
  });
}

export interface BuildRequest {
  /** The build context: a Dockerfile and what it copies. */
  dir: string;
  /** The files of the context, relative to dir, in tar order (default: every file under dir). */
  files?: string[];
  tag: string;
  /** The short name in progress lines, e.g. "mail". */
  short: string;
  labels?: Record<string, string>;
  buildargs?: Record<string, string>;
  log: (line: string) => void;
}

/**
 * Builds one image with progress (each step, a tick with the time elapsed); a failure throws one message
 * naming the image and the step, with apt's error lines when apt failed.
 */
export async function buildFromContext(docker: Docker, request: BuildRequest): Promise<void> {
  const { dir, tag, short: name, log } = request;
  const started = Date.now();
  const stream = await docker.buildImage(
    { context: dir, src: request.files ?? (await listFiles(dir)) },
    {
      t: tag,
      ...(request.labels ? { labels: request.labels } : {}),
      ...(request.buildargs ? { buildargs: request.buildargs } : {}),
      rm: true,
      forcerm: true,
    },
  );
  let tail: string[] = [];
  /** The unfinished last line of the stream so far: the engine may cut a line across events ("E" | ": ..."). */
  let partial = '';
  let step = '';
  let stepLine = '';
  let packages = 0;
  await withProgress(
    log,
    () => `lab: building ${tag}${step ? `, ${step}` : ''}`,
    () =>
      new Promise<void>((resolve, reject) => {
        docker.modem.followProgress(
          stream,
          (err: Error | null, events: BuildEvent[]) => {
            if (partial.trim()) tail = [...tail.slice(-200), partial.trimEnd()];
            const failed = err?.message ?? events.find((e) => e.error)?.error;
            if (!failed) return resolve();
            // One message: the image, the step, and apt's own error lines when apt failed.
            reject(
              new PreflightError([
                buildFailureProblem({
                  image: tag,
                  ...(stepLine ? { step: stepLine } : {}),
                  error: failed,
                  transcript: tail.join('\n'),
                }),
              ]),
            );
          },
          (event: BuildEvent) => {
            const lines = (partial + (event.stream ?? '')).split('\n');
            partial = lines.pop() ?? '';
            for (const line of lines) {
              const text = line.trimEnd();
              if (!text) continue;
              tail = [...tail.slice(-200), text];
              const m = /^Step (\d+\/\d+) : (.*)$/.exec(text);
              if (m) {
                step = `step ${m[1]}`;
                stepLine = `step ${m[1]}: ${m[2]}`;
                log(`lab: [${name}] step ${m[1]}: ${m[2]!.replace(/\s+/g, ' ').slice(0, 90)}`);
              } else if (text.includes('Using cache')) {
                log(`lab: [${name}]   (cached)`);
              } else if (/^Setting up /.test(text)) {
                // apt progress: one line per package would be noisy, show every 25th
                if (packages++ % 25 === 0) log(`lab: [${name}]   ${text.slice(0, 90)} (package ${packages})`);
              }
            }
          },
        );
      }),
  );
  log(`lab: [${name}] built ${tag} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** A build of a context made elsewhere (the DMS image), labelled with its hash like the lab's own images. */
export interface ContextBuild {
  /** Short name for progress lines, e.g. "dms". */
  name: string;
  tag: string;
  /** The build context directory. */
  dir: string;
  /** Files of the context, relative to dir (the order of the tar stream). */
  files: string[];
  /** Stored in IMAGE_HASH_LABEL, so the next run can skip the build when nothing changed. */
  hash: string;
  buildargs?: Record<string, string>;
}

export function buildContext(docker: Docker, spec: ContextBuild, log: (line: string) => void): Promise<void> {
  return buildFromContext(docker, {
    dir: spec.dir,
    files: spec.files,
    tag: spec.tag,
    short: spec.name,
    labels: { [IMAGE_HASH_LABEL]: spec.hash, 'org.mail-runbooks.lab': '1' },
    buildargs: spec.buildargs ?? {},
    log,
  });
}

export interface ImagesResult {
  images: Record<ImageName, string>;
  built: ImageName[];
  seconds: { base: number; images: number };
}

/**
 * Ensures the base image and the lab images exist and match lab/images/. `only` restricts the work to the
 * images a run needs (with --dms-image the mail image is not needed).
 */
export async function ensureImages(
  docker: Docker,
  log: (line: string) => void,
  only: readonly ImageName[] = ['mailbase', 'mail', 'relay'],
): Promise<ImagesResult> {
  const t0 = Date.now();
  await ensureBaseImage(docker, log);
  const baseId = (await docker.getImage(BASE_IMAGE).inspect()).Id;
  const t1 = Date.now();
  const hashes: Partial<Record<ImageName | 'base', string>> = { base: baseId };
  const built: ImageName[] = [];
  for (const { name, parent } of BUILD) {
    const hash = await contextHash(join(IMAGES_DIR, name), hashes[parent]!);
    hashes[name] = hash;
    if (!only.includes(name) && !(name === 'mailbase')) continue;
    if ((await imageLabel(docker, IMAGES[name])) === hash) continue;
    log(`lab: building image ${IMAGES[name]} from lab/images/${name}`);
    await build(docker, name, hash, log);
    built.push(name);
  }
  return {
    images: { ...IMAGES },
    built,
    seconds: { base: (t1 - t0) / 1000, images: (Date.now() - t1) / 1000 },
  };
}
