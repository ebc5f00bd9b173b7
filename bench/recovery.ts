/**
 * Time from a fault to verified recovery through the alert path from real metrics (issue 12, point 3), for
 * relay-down: the lab's relay stops → the mail server's blackbox exporter → Prometheus (shipped rules, `for:`
 * shortened) → Alertmanager → the receiver → relayUnresponsive on the real worker, approvals sent as soon as
 * asked (zero think time) → end-to-end verification. Split into:
 *   detection     injection done (port closed) → Prometheus has the alert firing (scrape + rule + `for:`)
 *   dispatch      firing → the run started (Prometheus → Alertmanager → receiver → Temporal)
 *   runbook       run started → its end-to-end verification starts (checks, approvals, fix)
 *   verification  the verification (canary submitted, delivered through the relay) → the run ends, fixed
 * Baseline, in the same run and first (no monitoring running, so nothing else starts a run): the same
 * runbook started directly right after the same injection.
 *
 *   npm run bench -- recovery [--runs N] [--interval S] [--for S]
 * Needs the lab (under its lock: flock /tmp/mrb-lab.lock npm run bench -- recovery) and Debian's
 * prometheus and prometheus-alertmanager.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { temporalDispatcher } from '../src/alerts/dispatch.js';
import { receiverOptionsFromConfig } from '../src/alerts/from-config.js';
import { startReceiver } from '../src/alerts/receiver.js';
import { loadConfig } from '../src/config/load.js';
import { findFault, healFault, injectFault } from '../src/lab/faults.js';
import { labContext, labUp, type LabContext } from '../src/lab/lab.js';
import { MATERIAL_FILES } from '../src/lab/material.js';
import {
  prometheusAlerts,
  prometheusValue,
  startLabMonitoring,
  type LabMonitoring,
  type MonitoringTimings,
} from '../src/lab/monitoring.js';
import { runWorkflowId } from '../src/shared/start.js';
import type { RunbookReport } from '../src/shared/types.js';
import { createWorker } from '../src/worker.js';
import { flush, type Lab } from '../test/helpers/lab.js';
import { pollUntil } from '../test/helpers/poll.js';
import { freePort } from '../test/helpers/ports.js';
import { runApproving } from './approve.js';
import { withBenchDevServer } from './dev-server.js';

const RUNBOOK = 'relayUnresponsive';
const FAULT = 'relay-down';
const ALERT = 'SmtpRelayDown';

interface Split {
  path: 'alert' | 'direct';
  detectionMs: number;
  dispatchMs: number;
  runbookMs: number;
  verificationMs: number;
  totalMs: number;
  /** Alert path only: injection → the receiver told that the alert resolved (may be before the run ends:
   * the relay greets again once restarted, while the run still verifies). */
  resolvedMs?: number;
  verdict: string;
}

/** The run's own times: when it started, when its verification started, when it ended. */
async function runTimes(
  handle: WorkflowHandle,
  report: RunbookReport,
): Promise<{ started: number; verifying: number; ended: number }> {
  const started = (await handle.describe()).startTime.getTime();
  const verify = report.steps.find((s) => s.kind === 'verify');
  const ended = Date.parse(report.finishedAt);
  return { started, verifying: verify ? Date.parse(verify.startedAt) : ended, ended };
}

async function inject(ctx: LabContext): Promise<number> {
  await injectFault(ctx, findFault(FAULT), []);
  return Date.now(); // the relay's port refuses connections from here on
}

async function heal(lab: Lab): Promise<void> {
  await healFault(lab.ctx, findFault(FAULT));
  await flush(lab);
}

async function direct(lab: Lab, client: Client, taskQueue: string): Promise<Split> {
  const injected = await inject(lab.ctx);
  try {
    const handle = await client.workflow.start(RUNBOOK, {
      taskQueue,
      workflowId: `bench-recovery-direct-${randomUUID().slice(0, 8)}`,
      args: [{}],
    });
    const report = (await runApproving(handle)) as RunbookReport;
    const t = await runTimes(handle, report);
    return {
      path: 'direct',
      detectionMs: 0,
      dispatchMs: t.started - injected,
      runbookMs: t.verifying - t.started,
      verificationMs: t.ended - t.verifying,
      totalMs: t.ended - injected,
      verdict: report.verdict,
    };
  } finally {
    await heal(lab);
  }
}

async function viaAlert(
  lab: Lab,
  client: Client,
  monitoring: LabMonitoring,
  resolvedAt: () => number | undefined,
): Promise<Split> {
  await healthyView(monitoring);
  const injected = await inject(lab.ctx);
  try {
    const firing = await pollUntil(120_000, `${ALERT} to fire`, async () => {
      const alerts = await prometheusAlerts(monitoring.prometheusUrl);
      return alerts.some((a) => a.labels.alertname === ALERT && a.state === 'firing')
        ? Date.now()
        : undefined;
    });
    const handle = client.workflow.getHandle(runWorkflowId(RUNBOOK, 'lab'));
    // Started after the injection: with --runs, the last run (same workflow id) is there, closed.
    await pollUntil(120_000, 'the receiver to start the run', async () =>
      (await handle.describe()).startTime.getTime() >= injected ? true : undefined,
    );
    const report = (await runApproving(handle)) as RunbookReport;
    const t = await runTimes(handle, report);
    const resolved = await pollUntil(120_000, 'the receiver to be told the alert resolved', () =>
      Promise.resolve(resolvedAt()),
    );
    return {
      path: 'alert',
      detectionMs: firing - injected,
      dispatchMs: t.started - firing,
      runbookMs: t.verifying - t.started,
      verificationMs: t.ended - t.verifying,
      totalMs: t.ended - injected,
      resolvedMs: resolved - injected,
      verdict: report.verdict,
    };
  } finally {
    await heal(lab);
  }
}

/** Prometheus sees a healthy lab: queue read, both probes greet, no alert active. */
async function healthyView(monitoring: LabMonitoring): Promise<void> {
  await pollUntil(120_000, 'Prometheus to see a healthy lab', async () => {
    const up = await prometheusValue(monitoring.prometheusUrl, 'min(postfix_up)');
    const probes = await prometheusValue(monitoring.prometheusUrl, 'min(probe_success)');
    const alerts = await prometheusAlerts(monitoring.prometheusUrl);
    return up === 1 && probes === 1 && alerts.length === 0 ? true : undefined;
  });
}

const s = (ms: number | undefined): string => (ms === undefined ? '-' : (ms / 1000).toFixed(1)).padStart(8);

function print(rows: Split[], timings: MonitoringTimings): void {
  console.log(
    `relay-down → verified recovery, ${RUNBOOK}, approvals at once; Prometheus scrape/evaluation every ` +
      `${timings.intervalSeconds} s, lab rules' for: ${timings.forSeconds} s, Alertmanager group_wait ${timings.groupSeconds} s`,
  );
  console.log(
    'path    detection dispatch  runbook  verification   total  (s)   alert resolved at (s)  verdict',
  );
  for (const r of rows)
    console.log(
      `${r.path.padEnd(6)} ${s(r.detectionMs)} ${s(r.dispatchMs)} ${s(r.runbookMs)} ${s(r.verificationMs)}     ${s(r.totalMs)}          ${s(r.resolvedMs)}         ${r.verdict}`,
    );
  const mean = (path: Split['path'], f: (r: Split) => number): number => {
    const of = rows.filter((r) => r.path === path);
    return of.reduce((a, r) => a + f(r), 0) / Math.max(1, of.length);
  };
  const extra = mean('alert', (r) => r.totalMs) - mean('direct', (r) => r.totalMs);
  console.log(
    `the alert path adds ${(extra / 1000).toFixed(1)} s to the direct start (detection ${(mean('alert', (r) => r.detectionMs) / 1000).toFixed(1)} s, ` +
      `dispatch ${(mean('alert', (r) => r.dispatchMs) / 1000).toFixed(1)} s, the rest is the runbook's own variation)`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '1' },
      interval: { type: 'string', default: '2' },
      for: { type: 'string', default: '4' },
    },
  });
  const runs = Number(values.runs);
  const timings: MonitoringTimings = {
    intervalSeconds: Number(values.interval),
    forSeconds: Number(values.for),
    groupSeconds: 1,
  };
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const ctx = labContext();
  const up = await labUp(ctx);
  process.env.MRB_CONFIG = up.config;
  const lab = { ctx, up, ports: up.settings.ports } as Lab;
  await heal(lab);
  const rows: Split[] = [];
  await withBenchDevServer('recovery', async (server, client) => {
    const connection = await NativeConnection.connect({ address: server.address });
    const taskQueue = `bench-recovery-${randomUUID()}`;
    const worker = await createWorker(connection, 'default', { taskQueue });
    await worker.runUntil(async () => {
      for (let i = 0; i < runs; i++) {
        rows.push(await direct(lab, client, taskQueue));
        console.error(`direct ${i + 1}: ${(rows.at(-1)!.totalMs / 1000).toFixed(1)} s`);
      }
      const options = await receiverOptionsFromConfig(await loadConfig(up.config), dirname(up.config));
      if (!options) throw new Error(`${up.config} has no alerts section`);
      let resolved: number | undefined;
      const receiver = await startReceiver({
        ...options,
        port: 0,
        dispatcher: temporalDispatcher(client, { taskQueue }),
        log: (line) => {
          if (line.includes(`alerts: ${ALERT} resolved ->`)) resolved ??= Date.now();
        },
      });
      const dir = await mkdtemp(join(tmpdir(), 'mrb-bench-recovery-'));
      try {
        for (let i = 0; i < runs; i++) {
          // A fresh Prometheus and Alertmanager per run: no state (pending alert, group) from the last one.
          const monitoring = await startLabMonitoring({
            dir: join(dir, String(i)),
            target: 'lab',
            ports: up.settings.ports,
            receiverUrl: receiver.url,
            tokenFile: join(ctx.paths.dir, MATERIAL_FILES.receiverToken),
            prometheusPort: await freePort(),
            alertmanagerPort: await freePort(),
            timings,
          });
          try {
            resolved = undefined;
            rows.push(await viaAlert(lab, client, monitoring, () => resolved));
            console.error(`alert ${i + 1}: ${(rows.at(-1)!.totalMs / 1000).toFixed(1)} s`);
            // The next run's workflow id is the same (one run per runbook and target): this one is closed.
          } finally {
            await monitoring.stop();
          }
        }
      } finally {
        await receiver.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
    await connection.close();
  });
  print(rows, timings);
}

main()
  // Everything started here is stopped; idle sockets (Docker API, the worker's runtime) must not hold the
  // process open after the figures.
  .then(() => process.exit(0))
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
