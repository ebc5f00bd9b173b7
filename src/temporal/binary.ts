/**
 * Finds the Temporal CLI (which carries the dev server) or builds the pinned version from source.
 * Order: $MRB_TEMPORAL_BIN, then `temporal` on PATH, then the tools folders, then
 * `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` into the first writable tools folder (later
 * tags carry replace directives and cannot be `go install`ed). Nothing is ever downloaded as a prebuilt binary.
 *
 * The tools folder is shared with `.ci/run`: $MRB_TOOLS_DIR when set; else `${MRB_CACHE:-/var/cache/mail-runbooks}/tools/bin`
 * (what .ci/run uses), then the user's `~/.cache/mail-runbooks/tools/bin` (where a non-root user builds),
 * then the clone's `.tools/bin` (older checkouts built there). So `npm start` after `.ci/run` finds the CLI
 * that CI built instead of building it a second time.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PreflightError, temporalCliProblem, type Problem } from '../preflight/problems.js';
import { isExecutable, onPath } from '../preflight/probes.js';
import { withProgress } from '../preflight/progress.js';

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The cache root shared with .ci/run (its $CACHE): Go's caches and the built CLI live under it. */
export const DEFAULT_CACHE_DIR = '/var/cache/mail-runbooks';
export const cacheDir = (env: NodeJS.ProcessEnv = process.env): string =>
  resolve(env.MRB_CACHE || DEFAULT_CACHE_DIR);

/** The tools folders, searched in this order; the CLI is built into the first writable one. */
export function toolsDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.MRB_TOOLS_DIR) return [resolve(env.MRB_TOOLS_DIR)];
  const userCache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return [
    join(cacheDir(env), 'tools', 'bin'),
    join(resolve(userCache), 'mail-runbooks', 'tools', 'bin'),
    join(projectRoot, '.tools', 'bin'),
  ];
}

/** Whether `dir` exists writable, or could be created (its nearest existing parent is writable). */
async function writable(dir: string): Promise<boolean> {
  for (let d = dir; ; d = dirname(d)) {
    try {
      await access(d, constants.W_OK);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(d) === d) return false;
    }
  }
}

export async function buildDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dirs = toolsDirs(env);
  for (const dir of dirs) if (await writable(dir)) return dir;
  return dirs[0]!;
}

export interface FoundBinary {
  path: string;
  source: 'env' | 'path' | 'tools' | 'built';
}

/** Looks for an existing binary without building anything. */
export async function findTemporalBinary(
  env: NodeJS.ProcessEnv = process.env,
): Promise<FoundBinary | undefined> {
  const fromEnv = env.MRB_TEMPORAL_BIN;
  if (fromEnv) {
    if (await isExecutable(fromEnv)) return { path: resolve(fromEnv), source: 'env' };
    throw new Error(`MRB_TEMPORAL_BIN=${fromEnv} is not an executable file.`);
  }
  const fromPath = await onPath('temporal', env.PATH);
  if (fromPath) return { path: fromPath, source: 'path' };
  for (const dir of toolsDirs(env)) {
    const tools = join(dir, 'temporal');
    if (await isExecutable(tools)) return { path: tools, source: 'tools' };
  }
  return undefined;
}

/** Where Go's official tarball puts it; searched after PATH. */
export const GO_TARBALL_BIN = '/usr/local/go/bin';

/** Go, on PATH or in `extraDirs` (by default where its official tarball puts it). */
export const findGo = (
  env: NodeJS.ProcessEnv = process.env,
  extraDirs: readonly string[] = [GO_TARBALL_BIN],
): Promise<string | undefined> => onPath('go', [env.PATH ?? '', ...extraDirs].join(delimiter));

/** The problem when there is neither a Temporal CLI nor Go to build it; undefined when either is there. */
export async function temporalCliPreflight(
  env: NodeJS.ProcessEnv = process.env,
  goDirs: readonly string[] = [GO_TARBALL_BIN],
): Promise<Problem | undefined> {
  return temporalCliProblem({
    binary: (await findTemporalBinary(env))?.path,
    go: await findGo(env, goDirs),
    toolsDir: toolsDirs(env)[0]!,
  });
}

/** Finds the binary, or builds the pinned one with `go install` (minutes the first time; instant after). */
export async function ensureTemporalBinary(
  log: (line: string) => void = (l) => console.error(l),
  env: NodeJS.ProcessEnv = process.env,
): Promise<FoundBinary> {
  const found = await findTemporalBinary(env);
  if (found) return found;
  const go = await findGo(env);
  if (!go) throw new PreflightError([(await temporalCliPreflight(env))!]);
  const [built] = await goInstall(
    go,
    [{ pkg: TEMPORAL_CLI_MODULE, as: 'temporal' }],
    TEMPORAL_CLI_VERSION,
    'the Temporal CLI',
    log,
    env,
  );
  return { path: built!, source: 'built' };
}

/** A package to `go install`, and the name its binary gets in the tools folder. */
export interface GoPackage {
  /** The package path, without the version. */
  pkg: string;
  /** The binary's name (go names it after the package's folder, e.g. `server`, `sql`). */
  as: string;
}

/**
 * `go install <pkg>@<version>` for packages of one module into the first writable tools folder, each binary
 * renamed to its `as` name; returns their paths. Go's caches live under the cache root .ci/run uses, so
 * either one reuses what the other downloaded and compiled.
 */
export async function goInstall(
  go: string,
  packages: readonly GoPackage[],
  version: string,
  what: string,
  log: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const into = await buildDir(env);
  await mkdir(into, { recursive: true });
  const targets = packages.map((p) => `${p.pkg}@${version}`);
  log(`temporal: building ${targets.join(' ')} into ${into} (first time only; a few minutes)`);
  const cache = cacheDir(env);
  const goCaches = (await writable(cache))
    ? {
        GOCACHE: env.GOCACHE || join(cache, 'go', 'build'),
        GOMODCACHE: env.GOMODCACHE || join(cache, 'go', 'mod'),
      }
    : {};
  // Built into a folder of its own, then renamed: a binary called `server` would say nothing in tools/bin.
  const staging = await mkdtemp(join(into, '.go-install-'));
  try {
    await withProgress(
      log,
      `temporal: building ${what} with go install`,
      () =>
        new Promise<void>((ok, fail) => {
          const child = spawn(go, ['install', ...targets], {
            env: { ...env, ...goCaches, GOBIN: staging, GOFLAGS: env.GOFLAGS ?? '-mod=mod' },
            stdio: ['ignore', 'inherit', 'inherit'],
          });
          child.on('error', fail);
          child.on('close', (code) =>
            code === 0
              ? ok()
              : fail(new Error(`go install ${targets.join(' ')} failed (exit ${code}); its output is above`)),
          );
        }),
    );
    const built: string[] = [];
    for (const p of packages) {
      const from = join(staging, basename(p.pkg));
      if (!(await isExecutable(from))) throw new Error(`go install succeeded but ${from} is missing`);
      await rename(from, join(into, p.as));
      built.push(join(into, p.as));
    }
    return built;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
