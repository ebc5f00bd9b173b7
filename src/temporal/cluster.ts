/**
 * A production-like local Temporal cluster: the real server (built from go.temporal.io/server at the version
 * the pinned CLI embeds; ./server-binary.ts) on a PostgreSQL cluster of our own (Debian's `postgresql`
 * binaries, a data folder in the cluster folder), loopback only. `npm run cluster -- up|down|status`
 * (./cluster-cli.ts) drives it; the integration test kills and restarts its server.
 *
 * The cluster folder (MRB_CLUSTER_DIR; default `<cache>/cluster`, else `.cluster` in the checkout) holds:
 *   settings.json      the ports and namespace of the last `up` (so `down` and `status` need no flags)
 *   pg/data, pg/postgres.log   PostgreSQL's data folder and log (owned by `postgres` when run as root)
 *   pg-password        the generated password of the `temporal` database role (mode 0600)
 *   server/config/     the server's config (development-postgres12.yaml style) and dynamic config (0600)
 *   server/server.log, server/server.pid
 * Both processes run detached: they outlive `up` and stop with `down`.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chown, mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { PreflightError, portProblem, throwIfProblems, type Problem } from '../preflight/problems.js';
import { isExecutable, portInUse, portListener } from '../preflight/probes.js';
import { withProgress } from '../preflight/progress.js';
import { cacheDir } from './binary.js';
import { connectClient, ensureSearchAttributes, type TemporalTarget } from './connection.js';
import { ensureServerBinaries, findServerBinaries, type ServerBinaries } from './server-binary.js';

const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const HOST = '127.0.0.1';

export interface ClusterSettings {
  /** The frontend's gRPC port: what TEMPORAL_ADDRESS names. The other services' ports follow from it. */
  port: number;
  /** PostgreSQL's port (loopback). */
  pgPort: number;
  /** The namespace `up` registers (with our search attributes). */
  namespace: string;
}

export const DEFAULT_CLUSTER_SETTINGS: ClusterSettings = { port: 7233, pgPort: 55432, namespace: 'default' };

/** Every port the server listens on, from the frontend's: with 7233, Temporal's own defaults. */
export function servicePorts(port: number) {
  return {
    frontend: { grpc: port, membership: port - 300, http: port + 10 },
    history: { grpc: port + 1, membership: port - 299 },
    matching: { grpc: port + 2, membership: port - 298 },
    worker: { grpc: port + 6, membership: port - 294 },
  };
}

export interface ClusterPaths {
  dir: string;
  settings: string;
  pgRoot: string;
  pgData: string;
  pgLog: string;
  pgPassword: string;
  serverRoot: string;
  serverConfigDir: string;
  dynamicConfig: string;
  serverLog: string;
  serverPid: string;
}

export function clusterPaths(dir: string): ClusterPaths {
  const serverRoot = join(dir, 'server');
  return {
    dir,
    settings: join(dir, 'settings.json'),
    pgRoot: join(dir, 'pg'),
    pgData: join(dir, 'pg', 'data'),
    pgLog: join(dir, 'pg', 'postgres.log'),
    pgPassword: join(dir, 'pg-password'),
    serverRoot,
    serverConfigDir: join(serverRoot, 'config'),
    dynamicConfig: join(serverRoot, 'config', 'dynamicconfig.yaml'),
    serverLog: join(serverRoot, 'server.log'),
    serverPid: join(serverRoot, 'server.pid'),
  };
}

/** The cluster folder: MRB_CLUSTER_DIR, else `<cache>/cluster` when the cache is writable, else `.cluster` here. */
export async function chooseClusterDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.MRB_CLUSTER_DIR) return resolve(env.MRB_CLUSTER_DIR);
  const cache = cacheDir(env);
  try {
    await access(cache, constants.W_OK);
    return join(cache, 'cluster');
  } catch {
    return join(projectRoot, '.cluster');
  }
}

// ------------------------------------------------------------------------------------------ PostgreSQL

export interface PgBinaries {
  dir: string;
  initdb: string;
  pgCtl: string;
}

/** Debian's PostgreSQL server binaries: MRB_PG_BIN, else the newest /usr/lib/postgresql/<n>/bin. */
export async function findPgBinaries(env: NodeJS.ProcessEnv = process.env): Promise<PgBinaries | undefined> {
  const candidates: string[] = [];
  if (env.MRB_PG_BIN) candidates.push(resolve(env.MRB_PG_BIN));
  else {
    const versions = await readdir('/usr/lib/postgresql').catch(() => [] as string[]);
    versions
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
      .forEach((v) => candidates.push(join('/usr/lib/postgresql', v, 'bin')));
  }
  for (const dir of candidates) {
    const found = { dir, initdb: join(dir, 'initdb'), pgCtl: join(dir, 'pg_ctl') };
    if ((await isExecutable(found.initdb)) && (await isExecutable(found.pgCtl))) return found;
  }
  return undefined;
}

export function pgBinariesProblem(env: NodeJS.ProcessEnv = process.env): Problem {
  const where = env.MRB_PG_BIN ? `MRB_PG_BIN=${env.MRB_PG_BIN}` : '/usr/lib/postgresql/<version>/bin';
  return {
    problem: `No PostgreSQL server binaries (initdb, pg_ctl) in ${where}.`,
    fix:
      'install them (Debian: `apt-get install postgresql`; the cluster runs its own instance, not the system one),\n' +
      'or set MRB_PG_BIN to the folder that has initdb and pg_ctl.',
  };
}

/** As root, PostgreSQL runs as the `postgres` user (it refuses root); otherwise as the caller. */
const asRoot = (): boolean => process.getuid?.() === 0;

function pgArgv(bin: string, args: string[]): [string, string[]] {
  return asRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

interface RunResult {
  code: number;
  output: string;
}

/** Runs a command to its end (bounded by timeoutMs); its output is kept for error messages. */
function run(
  cmd: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((ok, fail) => {
    execFile(
      cmd,
      args,
      { env: options.env ?? process.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 4 << 20 },
      (err, stdout, stderr) => {
        const output = `${stdout}${stderr}`.trim();
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
          fail(new Error(`${cmd}: ${err.message}`));
          return;
        }
        ok({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, output });
      },
    );
  });
}

async function runOrThrow(
  what: string,
  cmd: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<string> {
  const r = await run(cmd, args, { env });
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.output}`);
  return r.output;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Gives a folder or file to the `postgres` user when we are root (PostgreSQL runs as that user). */
async function giveToPostgres(path: string): Promise<void> {
  if (!asRoot()) return;
  const r = await run('id', ['-u', 'postgres']);
  const g = await run('id', ['-g', 'postgres']);
  if (r.code !== 0)
    throw new PreflightError([
      {
        problem: 'Running as root, but there is no `postgres` user to run PostgreSQL as (it refuses root).',
        fix: "install Debian's `postgresql` package (it creates the user), or run `npm run cluster` as a normal user.",
      },
    ]);
  await chown(path, Number(r.output), Number(g.output));
}

async function pgRunning(pg: PgBinaries, paths: ClusterPaths): Promise<boolean> {
  if (!(await exists(join(paths.pgData, 'PG_VERSION')))) return false;
  const [cmd, args] = pgArgv(pg.pgCtl, ['-D', paths.pgData, 'status']);
  return (await run(cmd, args)).code === 0;
}

async function pgPassword(paths: ClusterPaths): Promise<string> {
  return (await readFile(paths.pgPassword, 'utf8')).trim();
}

/** initdb once: the `temporal` role is the superuser, with a generated password; TCP needs the password. */
async function initPostgres(pg: PgBinaries, paths: ClusterPaths, log: (l: string) => void): Promise<void> {
  if (await exists(join(paths.pgData, 'PG_VERSION'))) return;
  log(`postgres: creating a database cluster in ${paths.pgData}`);
  await mkdir(paths.pgRoot, { recursive: true, mode: 0o700 });
  await giveToPostgres(paths.pgRoot);
  if (!(await exists(paths.pgPassword))) {
    await writeFile(paths.pgPassword, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  }
  // initdb reads the password from a file the postgres user can read; removed right after.
  const pwfile = join(paths.pgRoot, '.initdb-pw');
  await writeFile(pwfile, await pgPassword(paths), { mode: 0o600 });
  await giveToPostgres(pwfile);
  try {
    const [cmd, args] = pgArgv(pg.initdb, [
      '-D',
      paths.pgData,
      '-U',
      'temporal',
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
    ]);
    await runOrThrow('initdb', cmd, args);
  } finally {
    await rm(pwfile, { force: true });
  }
  // Our settings live in their own file, rewritten by every `up` (the port may change).
  const conf = join(paths.pgData, 'postgresql.conf');
  await writeFile(conf, `${await readFile(conf, 'utf8')}\ninclude_if_exists = 'mail-runbooks.conf'\n`);
}

async function pgPortProblem(settings: ClusterSettings): Promise<Problem | undefined> {
  if (!(await portInUse(HOST, settings.pgPort))) return undefined;
  return portProblem(
    {
      host: HOST,
      port: settings.pgPort,
      wantedBy: "the cluster's PostgreSQL",
      override: 'choose another with `npm run cluster -- up --pg-port <port>`',
    },
    await portListener(settings.pgPort),
  );
}

async function startPostgres(
  pg: PgBinaries,
  paths: ClusterPaths,
  settings: ClusterSettings,
  log: (l: string) => void,
): Promise<void> {
  const ours = join(paths.pgData, 'mail-runbooks.conf');
  await writeFile(
    ours,
    [
      '# Written by `npm run cluster -- up` (src/temporal/cluster.ts); rewritten on every up.',
      `listen_addresses = '${HOST}'`,
      `port = ${settings.pgPort}`,
      // The socket in the data folder, not /var/run/postgresql (the system cluster's).
      `unix_socket_directories = '${paths.pgData.replace(/'/g, "''")}'`,
      '',
    ].join('\n'),
  );
  await giveToPostgres(ours);
  if (await pgRunning(pg, paths)) {
    log(`postgres: already running (${paths.pgData})`);
    return;
  }
  throwIfProblems([await pgPortProblem(settings)]);
  log(`postgres: starting on ${HOST}:${settings.pgPort}`);
  const [cmd, args] = pgArgv(pg.pgCtl, ['-D', paths.pgData, '-l', paths.pgLog, '-w', '-t', '60', 'start']);
  const r = await run(cmd, args, { timeoutMs: 90_000 });
  if (r.code !== 0) {
    const tail = (await readFile(paths.pgLog, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
    throw new Error(`postgres did not start (pg_ctl exit ${r.code}):\n${r.output}\n${tail}`);
  }
}

async function stopPostgres(pg: PgBinaries, paths: ClusterPaths, log: (l: string) => void): Promise<void> {
  if (!(await pgRunning(pg, paths))) {
    log('postgres: not running');
    return;
  }
  log('postgres: stopping');
  const [cmd, args] = pgArgv(pg.pgCtl, ['-D', paths.pgData, '-m', 'fast', '-w', '-t', '60', 'stop']);
  await runOrThrow('pg_ctl stop', cmd, args);
}

// ------------------------------------------------------------------------------------------ schemas

const DATABASES = [
  { name: 'temporal', schema: 'postgresql/v12/temporal' },
  { name: 'temporal_visibility', schema: 'postgresql/v12/visibility' },
] as const;

/**
 * Both databases with their schemas, through temporal-sql-tool (its schemas are embedded from the same
 * module source, schema/postgresql/v12/...). Created once (a marker per database); `update-schema` runs on
 * every up and applies only versions not yet applied.
 */
async function ensureSchemas(
  binaries: ServerBinaries,
  paths: ClusterPaths,
  settings: ClusterSettings,
  log: (l: string) => void,
): Promise<void> {
  // The password goes through the environment (SQL_PASSWORD), not argv, where `ps` would show it.
  const env = { ...process.env, SQL_PASSWORD: await pgPassword(paths) };
  for (const db of DATABASES) {
    const common = ['--plugin', 'postgres12', '--ep', HOST, '-p', String(settings.pgPort), '-u', 'temporal'];
    const withDb = [...common, '--db', db.name];
    const marker = join(paths.dir, `schema-${db.name}.created`);
    if (!(await exists(marker))) {
      log(`schema: creating database ${db.name}`);
      const created = await run(binaries.sqlTool, [...withDb, 'create-database'], { env });
      if (created.code !== 0 && !/already exists/.test(created.output)) {
        throw new Error(`temporal-sql-tool create-database ${db.name} failed:\n${created.output}`);
      }
      await runOrThrow(
        `temporal-sql-tool setup-schema (${db.name})`,
        binaries.sqlTool,
        [...withDb, 'setup-schema', '-v', '0.0'],
        env,
      );
      await writeFile(marker, `${new Date().toISOString()}\n`);
    }
    await runOrThrow(
      `temporal-sql-tool update-schema (${db.name})`,
      binaries.sqlTool,
      [...withDb, 'update-schema', '--schema-name', db.schema],
      env,
    );
    log(`schema: ${db.name} up to date`);
  }
}

// ------------------------------------------------------------------------------------------ server

/** The server's config, in the style of the module's config/development-postgres12.yaml; loopback only. */
export function serverConfigYaml(
  settings: ClusterSettings,
  password: string,
  dynamicConfigPath: string,
): string {
  const ports = servicePorts(settings.port);
  const q = (s: string): string => JSON.stringify(s); // a YAML double-quoted scalar
  const store = (db: string, maxConns: number) =>
    [
      '      sql:',
      '        pluginName: "postgres12"',
      `        databaseName: ${q(db)}`,
      `        connectAddr: ${q(`${HOST}:${settings.pgPort}`)}`,
      '        connectProtocol: "tcp"',
      '        user: "temporal"',
      `        password: ${q(password)}`,
      `        maxConns: ${maxConns}`,
      `        maxIdleConns: ${maxConns}`,
      '        maxConnLifetime: "1h"',
    ].join('\n');
  const service = (name: string, p: { grpc: number; membership: number; http?: number }) =>
    [
      `  ${name}:`,
      '    rpc:',
      `      grpcPort: ${p.grpc}`,
      `      membershipPort: ${p.membership}`,
      '      bindOnLocalHost: true',
      ...(p.http ? [`      httpPort: ${p.http}`] : []),
    ].join('\n');
  return `# Written by \`npm run cluster -- up\` (src/temporal/cluster.ts); rewritten on every up. Holds the
# database password: keep it 0600.
log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
${store('temporal', 20)}
    postgres-visibility:
${store('temporal_visibility', 4)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "${HOST}"

services:
${service('frontend', ports.frontend)}
${service('matching', ports.matching)}
${service('history', ports.history)}
${service('worker', ports.worker)}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "${HOST}:${settings.port}"

dcRedirectionPolicy:
  policy: "noop"

dynamicConfigClient:
  filepath: ${q(dynamicConfigPath)}
  pollInterval: "10s"
`;
}

/**
 * Like the dev server's (src/temporal/dev-server.ts): eager activity dispatch saves a round trip a step, and
 * the transfer queue read as soon as a task is added, not at most 20 times a second per shard.
 */
const DYNAMIC_CONFIG = `# Written by \`npm run cluster -- up\` (src/temporal/cluster.ts).
system.enableActivityEagerExecution:
  - value: true
history.transferProcessorMaxPollRPS:
  - value: 1000
`;

async function writeServerConfig(paths: ClusterPaths, settings: ClusterSettings): Promise<void> {
  await mkdir(paths.serverConfigDir, { recursive: true, mode: 0o700 });
  await writeFile(
    join(paths.serverConfigDir, 'cluster.yaml'),
    serverConfigYaml(settings, await pgPassword(paths), paths.dynamicConfig),
    { mode: 0o600 },
  );
  await writeFile(paths.dynamicConfig, DYNAMIC_CONFIG, { mode: 0o600 });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of the running server (from its pid file, checked against /proc), or undefined. */
export async function serverPid(paths: ClusterPaths): Promise<number | undefined> {
  const pid = Number((await readFile(paths.serverPid, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes('temporal-server') ? pid : undefined;
}

function clusterTarget(settings: ClusterSettings): TemporalTarget {
  return {
    mode: 'external',
    connectionOptions: { address: `${HOST}:${settings.port}` },
    namespace: settings.namespace,
  };
}

/** One problem naming every port of the server that something else listens on, or undefined. */
export async function serverPortsProblem(settings: ClusterSettings): Promise<Problem | undefined> {
  const busy: string[] = [];
  for (const [service, ports] of Object.entries(servicePorts(settings.port))) {
    for (const [kind, port] of Object.entries(ports)) {
      if (!(await portInUse(HOST, port))) continue;
      const holder = await portListener(port);
      busy.push(`${port} (${service} ${kind}${holder ? `; held by ${holder}` : ''})`);
    }
  }
  if (busy.length === 0) return undefined;
  return {
    problem: `The Temporal server's ports are in use on ${HOST}: ${busy.join(', ')}.`,
    fix:
      'stop what listens there (`ss -ltnp` shows it), or choose another frontend port with\n' +
      '`npm run cluster -- up --port <port>` (the other services follow it: ports-300 to port+10).',
  };
}

/** Starts the server detached (it outlives this process); returns once its frontend answers. */
export async function startServer(
  binaries: ServerBinaries,
  paths: ClusterPaths,
  settings: ClusterSettings,
  log: (l: string) => void,
  startTimeoutMs = 120_000,
): Promise<number> {
  const running = await serverPid(paths);
  if (running) {
    log(`server: already running (pid ${running})`);
    return running;
  }
  throwIfProblems([await serverPortsProblem(settings)]);
  await writeServerConfig(paths, settings);
  const logFile = await open(paths.serverLog, 'a');
  const child = spawn(
    binaries.server,
    ['--root', paths.serverRoot, '--config', 'config', '--env', 'cluster', '--allow-no-auth', 'start'],
    { detached: true, stdio: ['ignore', logFile.fd, logFile.fd] },
  );
  await logFile.close();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${binaries.server}`);
  child.unref();
  await writeFile(paths.serverPid, `${pid}\n`);
  log(`server: starting (pid ${pid}, log ${paths.serverLog})`);

  const deadline = Date.now() + startTimeoutMs;
  await withProgress(log, `server: waiting for the frontend on ${HOST}:${settings.port}`, async () => {
    for (;;) {
      if (!alive(pid) || child.exitCode !== null) {
        throw new Error(
          `temporal-server exited during start; the end of ${paths.serverLog}:\n${await logTail(paths)}`,
        );
      }
      const client = await connectClient(clusterTarget(settings), 2_000).catch(() => undefined);
      if (client) {
        try {
          await client.workflowService.getSystemInfo({});
          return;
        } catch {
          // listening but not serving yet
        } finally {
          await client.connection.close();
        }
      }
      if (Date.now() > deadline) {
        throw new Error(
          `temporal-server did not answer within ${startTimeoutMs / 1000} s:\n${await logTail(paths)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  });
  return pid;
}

async function logTail(paths: ClusterPaths, lines = 20): Promise<string> {
  return (await readFile(paths.serverLog, 'utf8').catch(() => '')).split('\n').slice(-lines).join('\n');
}

/** Stops the server: SIGTERM, then SIGKILL after graceMs (or at once with `signal: 'SIGKILL'`). */
export async function stopServer(
  paths: ClusterPaths,
  log: (l: string) => void,
  signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM',
  graceMs = 20_000,
): Promise<void> {
  const pid = await serverPid(paths);
  if (!pid) {
    log('server: not running');
    return;
  }
  log(`server: stopping (pid ${pid}${signal === 'SIGKILL' ? ', SIGKILL' : ''})`);
  process.kill(pid, signal);
  const deadline = Date.now() + graceMs;
  while (alive(pid)) {
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
    if (Date.now() > deadline + 5_000) throw new Error(`temporal-server (pid ${pid}) did not exit`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await rm(paths.serverPid, { force: true });
}

// ------------------------------------------------------------------------------------------ namespace

/** gRPC's status code for "already exists" (RegisterNamespace of a namespace that is there). */
const GRPC_ALREADY_EXISTS = 6;

/**
 * The namespace, registered when missing, and our search attributes on it through the operator API
 * (AddSearchAttributes; on SQL visibility they are per namespace). Retries while the fresh frontend
 * does not know the namespace yet.
 */
export async function ensureNamespace(
  client: Client,
  namespace: string,
  log: (l: string) => void,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let registered = false;
  for (;;) {
    try {
      if (!registered) {
        await client.workflowService
          .registerNamespace({
            namespace,
            workflowExecutionRetentionPeriod: msToTs('7 days'),
            description: 'mail-runbooks (npm run cluster)',
          })
          .then(
            () => log(`namespace: ${namespace} registered`),
            (err: unknown) => {
              if ((err as { code?: number }).code !== GRPC_ALREADY_EXISTS) throw err;
            },
          );
        registered = true;
      }
      await ensureSearchAttributes(client, namespace);
      break;
    } catch (err) {
      // A fresh server refuses for a few seconds (its services are still joining; the namespace not cached).
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  log(`namespace: ${namespace} has the search attributes (operator API)`);
}

// ------------------------------------------------------------------------------------------ up / down / status

export interface ClusterOptions {
  dir: string;
  /** Unset fields come from the last `up` (settings.json), then DEFAULT_CLUSTER_SETTINGS. */
  settings?: Partial<ClusterSettings>;
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface ClusterUp {
  paths: ClusterPaths;
  settings: ClusterSettings;
  binaries: ServerBinaries;
  address: string;
  serverPid: number;
}

export async function loadSettings(
  paths: ClusterPaths,
  given: Partial<ClusterSettings> = {},
): Promise<ClusterSettings> {
  const saved = JSON.parse(
    await readFile(paths.settings, 'utf8').catch(() => '{}'),
  ) as Partial<ClusterSettings>;
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_CLUSTER_SETTINGS, ...saved, ...defined };
}

/** Idempotent: what runs is left running, what exists is kept; only what is missing is made. */
export async function clusterUp(options: ClusterOptions): Promise<ClusterUp> {
  const log = options.log ?? ((l: string) => console.error(l));
  const env = options.env ?? process.env;
  const paths = clusterPaths(options.dir);
  const settings = await loadSettings(paths, options.settings);
  // Cheap checks first (PostgreSQL's binaries, the ports), so they are said before a build of minutes and
  // before anything is created or started. What is ours and running already holds its own ports.
  const pg = await findPgBinaries(env);
  if (!pg) throw new PreflightError([pgBinariesProblem(env)]);
  throwIfProblems([
    (await serverPid(paths)) ? undefined : await serverPortsProblem(settings),
    (await pgRunning(pg, paths)) ? undefined : await pgPortProblem(settings),
  ]);
  const binaries = await ensureServerBinaries(log, env);
  log(`server: ${binaries.server} (${binaries.source})`);
  await mkdir(paths.dir, { recursive: true, mode: 0o755 });
  await writeFile(paths.settings, `${JSON.stringify(settings, null, 2)}\n`);
  await initPostgres(pg, paths, log);
  await startPostgres(pg, paths, settings, log);
  await ensureSchemas(binaries, paths, settings, log);
  const pid = await startServer(binaries, paths, settings, log);
  const client = await connectClient(clusterTarget(settings));
  try {
    await ensureNamespace(client, settings.namespace, log);
  } finally {
    await client.connection.close();
  }
  return { paths, settings, binaries, address: `${HOST}:${settings.port}`, serverPid: pid };
}

/** Stops the server, then PostgreSQL; with purge, deletes the cluster folder (every run's history). */
export async function clusterDown(options: ClusterOptions & { purge?: boolean }): Promise<void> {
  const log = options.log ?? ((l: string) => console.error(l));
  const paths = clusterPaths(options.dir);
  await stopServer(paths, log);
  const pg = await findPgBinaries(options.env ?? process.env);
  if (pg) await stopPostgres(pg, paths, log);
  else log('postgres: no PostgreSQL binaries found; nothing to stop');
  if (options.purge) {
    await rm(paths.dir, { recursive: true, force: true });
    log(`purged ${paths.dir}`);
  }
}

export interface ClusterStatus {
  dir: string;
  settings: ClusterSettings;
  postgres: 'running' | 'stopped' | 'absent';
  server: { pid?: number; answering: boolean };
  binaries?: ServerBinaries;
}

export async function clusterStatus(options: ClusterOptions): Promise<ClusterStatus> {
  const env = options.env ?? process.env;
  const paths = clusterPaths(options.dir);
  const settings = await loadSettings(paths, options.settings);
  const pg = await findPgBinaries(env);
  const postgres = !(await exists(join(paths.pgData, 'PG_VERSION')))
    ? 'absent'
    : pg && (await pgRunning(pg, paths))
      ? 'running'
      : 'stopped';
  const pid = await serverPid(paths);
  let answering = false;
  if (pid) {
    const client = await connectClient(clusterTarget(settings), 2_000).catch(() => undefined);
    if (client) {
      answering = await client.workflowService.getSystemInfo({}).then(
        () => true,
        () => false,
      );
      await client.connection.close();
    }
  }
  return {
    dir: paths.dir,
    settings,
    postgres,
    server: { ...(pid ? { pid } : {}), answering },
    binaries: await findServerBinaries(env),
  };
}
