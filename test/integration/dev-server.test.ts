/**
 * The local Temporal server the project provisions: the pinned CLI's `server start-dev` with a SQLite file.
 * A run started before a restart is still there after it; the UI answers; our search attributes exist.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes.js';
import { freePort } from '../helpers/ports.js';

let server: DevServer | undefined;
const dataDir = await mkdtemp(join(tmpdir(), 'mrb-devserver-'));

afterAll(async () => {
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function withClient<T>(address: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address });
  try {
    return await fn(new Client({ connection }));
  } finally {
    await connection.close();
  }
}

describe('local Temporal dev server', () => {
  it('persists runs across a restart, serves the UI and registers the search attributes', async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    server = await startDevServer({ dataDir, port, uiPort, log: () => {} });
    const ui = await fetch(server.uiUrl);
    expect(ui.status).toBe(200);

    const workflowId = `persist-${Date.now()}`;
    await withClient(server.address, async (client) => {
      const attributes = await client.connection.operatorService.listSearchAttributes({
        namespace: 'default',
      });
      for (const key of ALL_SEARCH_ATTRIBUTES)
        expect(Object.keys(attributes.customAttributes)).toContain(key.name);
      // No worker serves this queue: the run simply stays open, which is what we need to see after a restart.
      await client.workflow.start('statusCheck', { taskQueue: 'nobody-polls-this', workflowId, args: [{}] });
    });

    await server.stop();
    server = await startDevServer({ dataDir, port, uiPort, log: () => {} });

    const description = await withClient(server.address, (client) =>
      client.workflow.getHandle(workflowId).describe(),
    );
    expect(description.status.name).toBe('RUNNING');
    expect(description.type).toBe('statusCheck');
  });

  it('runs with eager activity dispatch and its transfer queue read as soon as a task is added', async () => {
    // Without the second, every step waited up to 50 ms for the next workflow task (npm run bench -- orchestration).
    expect(server?.pid).toBeDefined();
    const argv = (await readFile(`/proc/${server!.pid}/cmdline`, 'utf8')).split('\0');
    const values = argv.flatMap((arg, i) => (argv[i - 1] === '--dynamic-config-value' ? [arg] : []));
    expect(values).toContain('system.enableActivityEagerExecution=true');
    expect(values).toContain('history.transferProcessorMaxPollRPS=1000');
  });

  it('keeps a committed run when the server is killed (SQLite write-ahead log, synchronous=NORMAL)', async () => {
    expect(server).toBeDefined();
    const { address, dbFile } = server!;
    const [port, uiPort] = [Number(address.split(':')[1]), await freePort()];
    // The write-ahead log is in use (DEFAULT_SQLITE_PRAGMAS): its file sits beside the database.
    expect((await stat(`${dbFile}-wal`)).isFile()).toBe(true);
    const workflowId = `killed-${Date.now()}`;
    await withClient(address, (client) =>
      client.workflow.start('statusCheck', { taskQueue: 'nobody-polls-this', workflowId, args: [{}] }),
    );
    // No graceful stop: SIGKILL right after the start was acknowledged, as a crash would.
    process.kill(server!.pid!, 'SIGKILL');
    await server!.stop();
    server = await startDevServer({ dataDir, port, uiPort, log: () => {} });
    const description = await withClient(server.address, (client) =>
      client.workflow.getHandle(workflowId).describe(),
    );
    expect(description.status.name).toBe('RUNNING');
  });

  it('refuses to start on a port that is taken, saying what to do', async () => {
    expect(server).toBeDefined();
    const port = Number(server!.address.split(':')[1]);
    await expect(startDevServer({ dataDir, port, log: () => {} })).rejects.toThrow(
      /already in use.*TEMPORAL_ADDRESS/s,
    );
  });
});
