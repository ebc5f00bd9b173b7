/**
 * `npm start`: the whole local stack in one process tree. The Temporal dev server (SQLite under .data/,
 * Web UI on 8233) unless TEMPORAL_ADDRESS names another cluster, then the worker. Ctrl-C (or SIGTERM) stops
 * the worker, then the server, and waits for both: nothing is left running.
 */
import {
  connectClient,
  connectWorker,
  ensureSearchAttributes,
  temporalTarget,
} from './temporal/connection.js';
import { startDevServer, type DevServer } from './temporal/dev-server.js';
import { createWorker } from './worker.js';

const log = (line: string): void => console.error(line);

async function main(): Promise<void> {
  const target = temporalTarget();
  let server: DevServer | undefined;
  let uiUrl: string | undefined = process.env.MRB_UI_URL;
  if (target.mode === 'local') {
    log('temporal: starting the local dev server (SQLite in .data/temporal) ...');
    server = await startDevServer({ log });
    uiUrl = server.uiUrl;
    log(`temporal: server at ${server.address}, database ${server.dbFile}`);
  } else {
    log(
      `temporal: using the cluster at ${target.connectionOptions.address ?? '(envconfig default)'}; no local server`,
    );
    const client = await connectClient(target);
    await ensureSearchAttributes(client, target.namespace);
    await client.connection.close();
  }

  const connection = await connectWorker(target);
  const worker = await createWorker(connection, target.namespace, { shutdownGraceTime: '10s' });
  const stopping = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log(`\n${signal}: stopping the worker${server ? ' and the Temporal server' : ''} ...`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  const running = worker.run();
  log(`worker: running on task queue ${worker.options.taskQueue}`);
  if (uiUrl) log(`\nTemporal Web UI: ${uiUrl}/namespaces/${target.namespace}/workflows\n`);
  log('Ready. Ctrl-C stops everything.');

  await Promise.race([stopping, running]);
  if (worker.getState() === 'RUNNING') worker.shutdown();
  await running.catch((err: unknown) => log(`worker: ${(err as Error).message}`));
  await connection.close();
  await server?.stop();
  log('stopped.');
}

main().catch((err: unknown) => {
  console.error(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
