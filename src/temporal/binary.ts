/**
 * Finds the Temporal CLI (which carries the dev server) or builds the pinned version from source.
 * Order: $MRB_TEMPORAL_BIN, then `temporal` on PATH, then the project's tools folder, then
 * `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` into that folder (later tags carry replace
 * directives and cannot be `go install`ed). Nothing is ever downloaded as a prebuilt binary.
 */
import { spawn } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const TOOLS_BIN = process.env.MRB_TOOLS_DIR
  ? resolve(process.env.MRB_TOOLS_DIR)
  : join(projectRoot, '.tools', 'bin');

export interface FoundBinary {
  path: string;
  source: 'env' | 'path' | 'tools' | 'built';
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string, pathEnv = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir && (await isExecutable(join(dir, name)))) return join(dir, name);
  }
  return undefined;
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
  const tools = join(TOOLS_BIN, 'temporal');
  if (await isExecutable(tools)) return { path: tools, source: 'tools' };
  return undefined;
}

export const MISSING_GO_MESSAGE = [
  'No Temporal CLI found and Go is not installed, so it cannot be built.',
  'Do one of:',
  '  - install Go 1.23 or later (https://go.dev/doc/install, or Debian: apt-get install golang-go) and rerun;',
  `  - put a 'temporal' binary on PATH, or set MRB_TEMPORAL_BIN=/path/to/temporal;`,
  '  - or point at an existing cluster with TEMPORAL_ADDRESS (then no local server is started).',
].join('\n');

/** Finds the binary, or builds the pinned one with `go install` (minutes the first time; instant after). */
export async function ensureTemporalBinary(
  log: (line: string) => void = (l) => console.error(l),
): Promise<FoundBinary> {
  const found = await findTemporalBinary();
  if (found) return found;
  const go = await onPath('go', `${process.env.PATH ?? ''}${delimiter}/usr/local/go/bin`);
  if (!go) throw new Error(MISSING_GO_MESSAGE);
  await mkdir(TOOLS_BIN, { recursive: true });
  log(
    `temporal: building ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION} into ${TOOLS_BIN} (first time only; a few minutes)`,
  );
  await new Promise<void>((ok, fail) => {
    const child = spawn(go, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
      env: { ...process.env, GOBIN: TOOLS_BIN, GOFLAGS: process.env.GOFLAGS ?? '-mod=mod' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0
        ? ok()
        : fail(new Error(`go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION} failed (exit ${code})`)),
    );
  });
  const built = join(TOOLS_BIN, 'temporal');
  if (!(await isExecutable(built))) throw new Error(`go install succeeded but ${built} is missing`);
  return { path: built, source: 'built' };
}
