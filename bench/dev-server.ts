/** A throwaway Temporal dev server (SQLite in a temporary folder) and a client for one benchmark run. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';
import { freePort } from '../test/helpers/ports.js';

/** A logger that drops everything: benchmarks print only their figures. */
export const SILENT = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

export async function withBenchDevServer(
  name: string,
  fn: (server: DevServer, client: Client) => Promise<void>,
  dynamicConfig?: Record<string, string>,
  sqlitePragmas?: readonly string[],
): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), `mrb-bench-${name}-`));
  const server = await startDevServer({
    dataDir,
    port: await freePort(),
    uiPort: await freePort(),
    log: () => {},
    ...(dynamicConfig ? { dynamicConfig } : {}),
    ...(sqlitePragmas ? { sqlitePragmas } : {}),
  });
  const connection = await Connection.connect({ address: server.address });
  try {
    await fn(server, new Client({ connection }));
  } finally {
    await connection.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
