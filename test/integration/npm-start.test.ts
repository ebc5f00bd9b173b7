/**
 * `npm start` as a user runs it (bin/mail-runbooks-start.js, what the npm script runs): with no config
 * given it says in one line that it uses the lab, brings up the lab as the default target, the Temporal dev server with its Web UI, the worker,
 * the schedules, the alert receiver and the lab's alert path (Prometheus scraping the mail server's exporters,
 * Alertmanager sending to the receiver); a runbook started against it completes; Ctrl-C (SIGINT) stops
 * everything and leaves no process or listening port behind.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunbookReport } from '../../src/shared/types.js';
import { freePort } from '../helpers/ports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let child: ChildProcess | undefined;
let dataDir: string | undefined;

afterAll(async () => {
  // After a failure npm start still runs: SIGINT stops what it started (the dev server, Prometheus...);
  // SIGKILL alone would leave those behind. Bounded: SIGKILL after 60 s.
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    const timer = setTimeout(() => child?.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('npm start', () => {
  it('runs lab, server + UI, worker, schedules and receiver; SIGINT stops everything', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mrb-start-'));
    const [port, uiPort, metricsPort, prometheusPort, alertmanagerPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const taskQueue = `npm-start-${port}`;
    child = spawn(process.execPath, ['bin/mail-runbooks-start.js'], {
      cwd: ROOT,
      env: {
        ...process.env,
        MRB_CONFIG: '',
        TEMPORAL_ADDRESS: '',
        MRB_LOCAL_TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
        MRB_UI_PORT: String(uiPort),
        MRB_DATA_DIR: dataDir,
        MRB_TASK_QUEUE: taskQueue,
        MRB_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
        MRB_PROMETHEUS_PORT: String(prometheusPort),
        MRB_ALERTMANAGER_PORT: String(alertmanagerPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const deadline = Date.now() + 400_000;
    while (!output.includes('Ready. Ctrl-C stops everything.')) {
      if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`npm start not ready:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(output).toMatch(
      /^lab: no config given \(MRB_CONFIG, \.\/mail-runbooks\.yaml\): using the local mail lab/m,
    );
    expect(output).toMatch(/lab: up in/);
    expect(output).toContain(`Temporal Web UI: http://127.0.0.1:${uiPort}/namespaces/default/workflows`);
    expect(output).toMatch(/schedule: mrb\.nightly-e2e (created|unchanged|updated)/);
    expect(output).toMatch(/alerts: receiver at http:\/\/127\.0\.0\.1:9095/);
    expect(output).toContain(`monitoring: Prometheus at http://127.0.0.1:${prometheusPort}/alerts`);
    expect(output).toContain(
      `Alertmanager at http://127.0.0.1:${alertmanagerPort} → http://127.0.0.1:9095/alerts`,
    );
    // Prometheus scrapes the mail server's exporter and probes; Alertmanager knows the receiver. Prometheus
    // is ready before its scrape manager lists the targets: ask until they are there (bounded).
    const jobs = async (): Promise<string[]> => {
      const r = (await (
        await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/targets?state=active`)
      ).json()) as { data: { activeTargets: { labels: { job: string } }[] } };
      return r.data.activeTargets.map((t) => t.labels.job).sort();
    };
    let active = await jobs();
    for (let i = 0; i < 60 && active.length < 3; i++) {
      await new Promise((r) => setTimeout(r, 500));
      active = await jobs();
    }
    expect(active).toEqual(['content-filter', 'postfix', 'relay-smtp']);
    expect((await fetch(`http://127.0.0.1:${alertmanagerPort}/-/ready`)).status).toBe(200);

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/temporal_/);
    const receiverMetrics = await (await fetch('http://127.0.0.1:9095/metrics')).text();
    expect(receiverMetrics).toMatch(/mrb_alerts_received_total/);
    const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
    expect(ui.status).toBe(200);
    const unauthorized = await fetch('http://127.0.0.1:9095/alerts', { method: 'POST', body: '{}' });
    expect(unauthorized.status).toBe(401);

    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    try {
      const client = new Client({ connection });
      const handle = await client.workflow.start('statusCheck', {
        taskQueue,
        workflowId: `npm-start-${port}`,
        args: [{}],
      });
      const report = (await handle.result()) as RunbookReport;
      expect(report.target).toBe('lab');
      expect(['healthy', 'needs-human']).toContain(report.verdict);
    } finally {
      await connection.close();
    }

    const exited = once(child, 'exit');
    child.kill('SIGINT');
    const [code] = (await Promise.race([
      exited,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`npm start did not exit:\n${output}`)), 60_000),
      ),
    ])) as [number | null];
    expect(code, output).toBe(0);
    expect(output).toContain('stopped.');
    expect(await portOpen(port)).toBe(false);
    expect(await portOpen(uiPort)).toBe(false);
    expect(await portOpen(9095)).toBe(false);
    expect(await portOpen(metricsPort)).toBe(false);
    expect(await portOpen(prometheusPort)).toBe(false);
    expect(await portOpen(alertmanagerPort)).toBe(false);
    const left = (() => {
      try {
        return execFileSync('pgrep', ['-af', dataDir ?? 'none']).toString();
      } catch {
        return '';
      }
    })();
    expect(left).toBe('');
  }, 600_000);
});
