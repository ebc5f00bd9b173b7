/**
 * The Temporal server for `npm run cluster` (a production-like local cluster on PostgreSQL): the server and
 * its SQL schema tool, built from the Go module proxy at the version the pinned CLI embeds, into the same
 * tools folder as the CLI (src/temporal/binary.ts; Go's caches shared with .ci/run). Never a prebuilt download.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { PreflightError, type Problem } from '../preflight/problems.js';
import { isExecutable } from '../preflight/probes.js';
import { findGo, goInstall, toolsDirs } from './binary.js';

export const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';
/** The server version Temporal CLI v1.5.1 (TEMPORAL_CLI_VERSION) embeds in its dev server. */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';

export const SERVER_PACKAGES = [
  { pkg: `${TEMPORAL_SERVER_MODULE}/cmd/server`, as: 'temporal-server' },
  { pkg: `${TEMPORAL_SERVER_MODULE}/cmd/tools/sql`, as: 'temporal-sql-tool' },
] as const;

export interface ServerBinaries {
  server: string;
  sqlTool: string;
  source: 'tools' | 'built';
}

/** What `temporal-server --version` says, e.g. `temporal version 1.29.1`; undefined when it does not run. */
function serverVersion(path: string): Promise<string | undefined> {
  return new Promise((ok) =>
    execFile(path, ['--version'], { timeout: 10_000 }, (err, stdout) => ok(err ? undefined : stdout.trim())),
  );
}

/** The pinned server and schema tool in a tools folder, without building anything. */
export async function findServerBinaries(
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServerBinaries | undefined> {
  const want = TEMPORAL_SERVER_VERSION.replace(/^v/, '');
  for (const dir of toolsDirs(env)) {
    const server = join(dir, SERVER_PACKAGES[0].as);
    const sqlTool = join(dir, SERVER_PACKAGES[1].as);
    if (!(await isExecutable(server)) || !(await isExecutable(sqlTool))) continue;
    // Another version (an older pin) is rebuilt rather than run against a schema it does not know.
    if ((await serverVersion(server))?.endsWith(` ${want}`)) return { server, sqlTool, source: 'tools' };
  }
  return undefined;
}

export function serverBinariesProblem(toolsDir: string): Problem {
  return {
    problem: `No Temporal server (temporal-server ${TEMPORAL_SERVER_VERSION}) in ${toolsDir}, and Go is not installed to build it.`,
    fix:
      'install Go 1.23 or later (Debian: `apt-get install golang-go`; or https://go.dev/doc/install) and rerun:\n' +
      `the server and its schema tool are built once from ${TEMPORAL_SERVER_MODULE}@${TEMPORAL_SERVER_VERSION};\n` +
      'or use an existing cluster: TEMPORAL_ADDRESS=host:7233 (docs/deploy.md).',
  };
}

/** Finds the server and schema tool, or builds them with `go install` (minutes the first time). */
export async function ensureServerBinaries(
  log: (line: string) => void = (l) => console.error(l),
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServerBinaries> {
  const found = await findServerBinaries(env);
  if (found) return found;
  const go = await findGo(env);
  if (!go) throw new PreflightError([serverBinariesProblem(toolsDirs(env)[0]!)]);
  const [server, sqlTool] = await goInstall(
    go,
    SERVER_PACKAGES,
    TEMPORAL_SERVER_VERSION,
    'the Temporal server and its SQL schema tool',
    log,
    env,
  );
  return { server: server!, sqlTool: sqlTool!, source: 'built' };
}
