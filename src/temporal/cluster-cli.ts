/**
 * `npm run cluster -- up | down [--purge] | status | build`: a production-like local Temporal cluster (the
 * real server on PostgreSQL, loopback only; src/temporal/cluster.ts). Point the worker, CLI and receiver at
 * it with TEMPORAL_ADDRESS (docs/deploy.md).
 */
import { Command, Option } from 'commander';
import { PreflightError } from '../preflight/problems.js';
import { chooseClusterDir, clusterDown, clusterStatus, clusterUp, type ClusterSettings } from './cluster.js';
import { ensureServerBinaries } from './server-binary.js';

const log = (line: string): void => console.error(line);

const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1024 || n > 65535) throw new Error(`not a port (1024-65535): ${value}`);
  return n;
};

interface SettingsFlags {
  dir?: string;
  port?: number;
  pgPort?: number;
  namespace?: string;
}

const settingsFrom = (o: SettingsFlags): Partial<ClusterSettings> => ({
  ...(o.port !== undefined && { port: o.port }),
  ...(o.pgPort !== undefined && { pgPort: o.pgPort }),
  ...(o.namespace !== undefined && { namespace: o.namespace }),
});

const dirOf = async (o: SettingsFlags): Promise<string> => o.dir ?? (await chooseClusterDir());

const dirOption = () =>
  new Option('--dir <path>', 'the cluster folder (default: $MRB_CLUSTER_DIR, <cache>/cluster or .cluster)');

const program = new Command()
  .name('cluster')
  .description('A local Temporal cluster: the real server (go.temporal.io/server) on PostgreSQL');

program
  .command('up')
  .description('build the server once, start PostgreSQL and the server, register the namespace (idempotent)')
  .addOption(dirOption())
  .option('--port <port>', 'the frontend gRPC port (default 7233; the other services follow it)', port)
  .option('--pg-port <port>', "PostgreSQL's port (default 55432)", port)
  .option('--namespace <name>', 'the namespace to register with the search attributes (default: default)')
  .action(async (o: SettingsFlags) => {
    const started = Date.now();
    const up = await clusterUp({ dir: await dirOf(o), settings: settingsFrom(o), log });
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`cluster is up (${secs} s): Temporal ${up.address}, namespace ${up.settings.namespace}`);
    console.log(`  folder:   ${up.paths.dir} (server log ${up.paths.serverLog})`);
    console.log(`  postgres: 127.0.0.1:${up.settings.pgPort}`);
    console.log(
      `  use it:   TEMPORAL_ADDRESS=${up.address} TEMPORAL_NAMESPACE=${up.settings.namespace} npm start`,
    );
    console.log('  stop it:  npm run cluster -- down');
  });

program
  .command('down')
  .description('stop the server and PostgreSQL (the data is kept unless --purge)')
  .addOption(dirOption())
  .option('--purge', 'also delete the cluster folder: every run and its history')
  .action(async (o: SettingsFlags & { purge?: boolean }) => {
    await clusterDown({ dir: await dirOf(o), purge: Boolean(o.purge), log });
    console.log('cluster is down');
  });

program
  .command('status')
  .description('whether PostgreSQL and the server run, and where')
  .addOption(dirOption())
  .action(async (o: SettingsFlags) => {
    const s = await clusterStatus({ dir: await dirOf(o) });
    console.log(`folder:   ${s.dir}`);
    console.log(`postgres: ${s.postgres} (127.0.0.1:${s.settings.pgPort})`);
    console.log(
      `server:   ${s.server.pid ? `running (pid ${s.server.pid})` : 'stopped'}, ` +
        `${s.server.answering ? 'answering' : 'not answering'} at 127.0.0.1:${s.settings.port}, namespace ${s.settings.namespace}`,
    );
    console.log(`binary:   ${s.binaries?.server ?? 'not built yet (`npm run cluster -- build`)'}`);
    if (s.postgres !== 'running' || !s.server.answering) process.exitCode = 1;
  });

program
  .command('build')
  .description('find or build the server and its SQL schema tool (what .ci/run does), and print their paths')
  .action(async () => {
    const b = await ensureServerBinaries(log);
    console.log(`${b.server} (${b.source})`);
    console.log(`${b.sqlTool} (${b.source})`);
  });

program.parseAsync().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  console.error(err instanceof PreflightError ? `cluster: ${message}` : `cluster failed: ${message}`);
  process.exitCode = 1;
});
