/**
 * What every UI test stands on: a dev server of the pinned CLI (with its Web UI) on free ports and a data
 * folder of its own, one worker on a task queue of the test's, a client, and a headless chromium page with
 * bounded waits. `stop` tears down whatever was started, even after a part failed to start or to stop.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Browser, Page } from 'playwright-core';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { freePort } from './ports.js';
import { launchChromium, teardownSteps, within } from './ui.js';

export type TeardownStep = [string, () => Promise<unknown> | undefined];

export class UiStack {
  dataDir?: string;
  server?: DevServer;
  private workerConnection?: NativeConnection;
  private worker?: Worker;
  private running?: Promise<void>;
  private clientConnection?: Connection;
  private browser?: Browser;
  client!: Client;
  page!: Page;

  /** Starts each part in turn; on a failure the parts already started stay for `stop`. */
  async start(
    name: string,
    waitMs: number,
    createWorker: (connection: NativeConnection) => Promise<Worker>,
  ): Promise<this> {
    this.dataDir = await mkdtemp(join(tmpdir(), `mrb-${name}-`));
    const [port, uiPort] = [await freePort(), await freePort()];
    this.server = await startDevServer({ dataDir: this.dataDir, port, uiPort, log: () => {} });
    this.workerConnection = await NativeConnection.connect({ address: this.server.address });
    this.worker = await createWorker(this.workerConnection);
    this.running = this.worker.run();
    this.clientConnection = await Connection.connect({ address: this.server.address });
    this.client = new Client({ connection: this.clientConnection });
    this.browser = await launchChromium();
    const context = await this.browser.newContext({ viewport: { width: 1400, height: 1000 } });
    context.setDefaultTimeout(waitMs);
    context.setDefaultNavigationTimeout(waitMs);
    this.page = await context.newPage();
    return this;
  }

  /** The Web UI's base URL. */
  get uiUrl(): string {
    if (!this.server) throw new Error('the UI stack is not started');
    return this.server.uiUrl;
  }

  /** Tears everything down; `afterBrowser` steps (a lab fault to heal, say) run once the browser is closed. */
  async stop(afterBrowser: TeardownStep[] = []): Promise<void> {
    const { worker, running, dataDir } = this;
    await teardownSteps([
      ['browser', () => this.browser?.close()],
      ...afterBrowser,
      ['client', () => this.clientConnection?.close()],
      [
        'worker',
        async () => {
          if (worker && worker.getState() === 'RUNNING') worker.shutdown();
          await within(60_000, 'worker shutdown', running ?? Promise.resolve());
        },
      ],
      ['worker connection', () => this.workerConnection?.close()],
      ['server', () => this.server?.stop()],
      ['data dir', () => (dataDir ? rm(dataDir, { recursive: true, force: true }) : undefined)],
    ]);
  }
}
