/**
 * The local Temporal server: `temporal server start-dev` with a SQLite file (runs survive restarts), the
 * Web UI, and our custom search attributes registered at start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_SEARCH_ATTRIBUTES } from '../shared/search-attributes.js';
import { throwIfProblems } from '../preflight/problems.js';
import { portProblems } from '../preflight/probes.js';
import { withProgress } from '../preflight/progress.js';
import { startPortWants } from '../preflight/start-ports.js';
import { ensureTemporalBinary } from './binary.js';

const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface DevServerOptions {
  /** Folder for the SQLite file; default `.data/temporal` in the project. */
  dataDir?: string;
  ip?: string;
  port?: number;
  uiPort?: number;
  namespace?: string;
  /** How long to wait for the server to accept connections. */
  startTimeoutMs?: number;
  log?: (line: string) => void;
  /** Extra dynamic config values (`--dynamic-config-value key=value`), e.g. for a benchmark's variant. */
  dynamicConfig?: Record<string, string>;
  /** SQLite pragmas (`--sqlite-pragma name=value`); DEFAULT_SQLITE_PRAGMAS unless given ([]: SQLite's own). */
  sqlitePragmas?: readonly string[];
}

export interface DevServer {
  address: string;
  uiUrl: string;
  namespace: string;
  dbFile: string;
  /** The server process (tests pause it with SIGSTOP to play an unreachable Temporal). */
  pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Eager activity dispatch: a workflow task's completion hands the activity it schedules to the same worker,
 * saving a round trip per step (measured by `npm run bench -- orchestration`: about half the per-step cost).
 *
 * The transfer queue's poll rate: the history service reads each shard's new transfer tasks (the workflow task
 * after an activity completes, a child run's start, a Signal to another run) at most
 * `history.transferProcessorMaxPollRPS` times a second, 20 by default, so each step waited up to 50 ms before
 * its next workflow task was dispatched. A local server has a single shard and a few runs, so it reads as soon
 * as it is told of a task: per step 50 to 25 ms, a state-changing step (its lease) 301 to 114 ms (same bench).
 */
const DEFAULT_DYNAMIC_CONFIG: Record<string, string> = {
  'system.enableActivityEagerExecution': 'true',
  'history.transferProcessorMaxPollRPS': '1000',
};

/**
 * SQLite's own defaults (a rollback journal, synchronous=FULL) sync the disk several times per transaction,
 * and every step of a run is a few transactions. A write-ahead log with synchronous=NORMAL syncs only at
 * checkpoints: a commit survives the server being killed (the chaos tests kill -9 it), and only a power cut
 * may lose the last commits, which Temporal then redoes (an activity may run again: our actions check
 * before they act). Measured by `npm run bench -- orchestration`.
 */
export const DEFAULT_SQLITE_PRAGMAS: readonly string[] = ['journal_mode=wal', 'synchronous=normal'];

/** `--search-attribute NAME=Type` flags for every custom attribute (the CLI's type names). */
export function searchAttributeFlags(): string[] {
  const typeName: Record<string, string> = { KEYWORD: 'Keyword', BOOL: 'Bool', INT: 'Int', TEXT: 'Text' };
  return ALL_SEARCH_ATTRIBUTES.flatMap((key) => [
    '--search-attribute',
    `${key.name}=${typeName[key.type] ?? 'Keyword'}`,
  ]);
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((ok) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      ok(true);
    });
    socket.once('error', () => ok(false));
    socket.once('timeout', () => {
      socket.destroy();
      ok(false);
    });
  });
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const log = options.log ?? ((l: string) => console.error(l));
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? 7233;
  const uiPort = options.uiPort ?? 8233;
  const namespace = options.namespace ?? 'default';
  const dataDir = resolve(options.dataDir ?? join(projectRoot, '.data', 'temporal'));
  const dbFile = join(dataDir, 'temporal.db');
  // npm start checked these already (src/main.ts); other callers (tests, chaos) get the same message.
  throwIfProblems(await portProblems(startPortWants({ temporal: { address: `${ip}:${port}`, uiPort } })));
  await mkdir(dataDir, { recursive: true });
  const binary = await ensureTemporalBinary(log);
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    dbFile,
    '--ip',
    ip,
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    ...searchAttributeFlags(),
    ...Object.entries({ ...DEFAULT_DYNAMIC_CONFIG, ...options.dynamicConfig }).flatMap(([key, value]) => [
      '--dynamic-config-value',
      `${key}=${value}`,
    ]),
    ...(options.sqlitePragmas ?? DEFAULT_SQLITE_PRAGMAS).flatMap((pragma) => ['--sqlite-pragma', pragma]),
  ];
  const child: ChildProcess = spawn(binary.path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-4000);
  });
  let exited = false;
  const exitedPromise = new Promise<void>((ok) => child.once('exit', () => ((exited = true), ok())));

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  await withProgress(log, `temporal: waiting for the dev server on ${ip}:${port}`, async () => {
    while (!(await portOpen(ip, port))) {
      if (exited) throw new Error(`temporal server start-dev exited early:\n${stderrTail}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`temporal server start-dev did not listen on ${ip}:${port} in time:\n${stderrTail}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  return {
    address: `${ip}:${port}`,
    uiUrl: `http://${ip}:${uiPort}`,
    namespace,
    dbFile,
    pid: child.pid,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}
