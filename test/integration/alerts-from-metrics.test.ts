/**
 * Alerts from real metrics, end to end, with no alert posted anywhere (issue 12, point 3): a lab fault →
 * the mail server's exporters (Debian's prometheus-postfix-exporter and blackbox exporter, in the container)
 * → Debian's Prometheus with the shipped rules (only `for:` shortened) → Debian's Alertmanager with the
 * shipped routing → the lab config's receiver → the runbook the alert names, on the real worker → approval
 * by Signal → fixed → the alert resolves and the receiver is told. Scrape and evaluation every 2 s.
 *
 * Run under the lab lock: flock /tmp/mrb-lab.lock npx vitest run --project integration <this file>
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporalDispatcher } from '../../src/alerts/dispatch.js';
import { receiverOptionsFromConfig } from '../../src/alerts/from-config.js';
import { startReceiver, type Receiver } from '../../src/alerts/receiver.js';
import { loadConfig } from '../../src/config/load.js';
import { MATERIAL_FILES } from '../../src/lab/material.js';
import {
  monitoringBinaries,
  prometheusAlerts,
  prometheusValue,
  startLabMonitoring,
  type LabMonitoring,
} from '../../src/lab/monitoring.js';
import { runWorkflowId } from '../../src/shared/start.js';
import { labForFaultTests, withFault, type Lab } from '../helpers/lab.js';
import { pollUntil } from '../helpers/poll.js';
import { freePort } from '../helpers/ports.js';
import { approve, report, runbookHarness, stepsOf, type RunbookHarness } from '../helpers/runbooks.js';

const TIMINGS = { intervalSeconds: 2, forSeconds: 4, groupSeconds: 1 };

let lab: Lab;
let h: RunbookHarness;
let receiver: Receiver;
let monitoring: LabMonitoring;
let tmp: string;
const receiverLog: string[] = [];

labForFaultTests((l) => (lab = l), ['relay-down', 'queue-flood']);

beforeAll(async () => {
  const binaries = await monitoringBinaries();
  if (!binaries.ok) throw new Error(`${binaries.problem.problem} ${binaries.problem.fix}`);
  h = await runbookHarness(lab.up.config);
  // The receiver exactly as `npm start` builds it from the lab's config (its routes and token), on a free port.
  const options = await receiverOptionsFromConfig(await loadConfig(lab.up.config), dirname(lab.up.config));
  if (!options) throw new Error(`${lab.up.config} has no alerts section`);
  receiver = await startReceiver({
    ...options,
    port: 0,
    dispatcher: temporalDispatcher(h.env.client, { taskQueue: h.taskQueue }),
    log: (line) => receiverLog.push(`${new Date().toISOString()} ${line}`),
  });
  tmp = await mkdtemp(join(tmpdir(), 'mrb-alerts-metrics-'));
  monitoring = await startLabMonitoring({
    dir: tmp,
    target: 'lab',
    ports: lab.ports,
    receiverUrl: receiver.url,
    tokenFile: join(lab.ctx.paths.dir, MATERIAL_FILES.receiverToken),
    prometheusPort: await freePort(),
    alertmanagerPort: await freePort(),
    timings: TIMINGS,
  });
  // A healthy lab as Prometheus sees it: the queue is read, both probes greet, nothing pending or firing.
  await pollUntil(90_000, 'Prometheus to see a healthy lab', async () => {
    const up = await prometheusValue(monitoring.prometheusUrl, 'min(postfix_up)');
    const probes = await prometheusValue(monitoring.prometheusUrl, 'min(probe_success)');
    const alerts = await prometheusAlerts(monitoring.prometheusUrl);
    return up === 1 && probes === 1 && alerts.length === 0 ? true : undefined;
  });
}, 240_000);

afterAll(async () => {
  await monitoring?.stop();
  await receiver?.close();
  await h?.teardown('alerts-from-metrics');
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Waits until Prometheus's alert `name` for the lab is firing (or, with `gone`, no longer active). */
async function alertState(name: string, want: 'firing' | 'gone', ms = 90_000): Promise<void> {
  await pollUntil(ms, `${name} ${want === 'firing' ? 'to fire' : 'to resolve'} in Prometheus`, async () => {
    const alert = (await prometheusAlerts(monitoring.prometheusUrl)).find(
      (a) => a.labels.alertname === name && a.labels.target === 'lab',
    );
    if (want === 'firing') return alert?.state === 'firing' ? true : undefined;
    return alert ? undefined : true;
  });
}

/** The receiver's log line for the alert (firing: the run started; resolved: the resolution received). */
function receiverSaw(name: string, status: 'firing' | 'resolved', runbook: string): Promise<string> {
  return pollUntil(90_000, `the receiver to get ${name} ${status}\n${receiverLog.join('\n')}`, () =>
    Promise.resolve(
      receiverLog.find((l) => l.includes(`alerts: ${name} ${status} -> ${runbook} on lab:`)) ?? undefined,
    ),
  );
}

/** The whole path for one fault: the alert fires, starts `runbook`, approvals, fixed, resolved. */
async function alertToRecovery(
  fault: string,
  alertname: string,
  runbook: string,
  steps: string[],
): Promise<void> {
  await withFault(lab, fault, async () => {
    await alertState(alertname, 'firing');
    expect(await receiverSaw(alertname, 'firing', runbook)).toMatch(
      `started (${runWorkflowId(runbook, 'lab')})`,
    );
    const handle = h.env.client.workflow.getHandle(runWorkflowId(runbook, 'lab'));
    const described = await handle.describe();
    expect(described.taskQueue).toBe(h.taskQueue);
    for (const step of steps) await approve(handle, step);
    const r = await report(handle);
    expect(r.verdict, stepsOf(r)).toBe('fixed');
    // Fixed by the runbook, before the fault's own heal runs: the metrics say so and the alert resolves.
    await alertState(alertname, 'gone');
    expect(await receiverSaw(alertname, 'resolved', runbook)).toBeTruthy();
  });
}

describe('alerts from real metrics, end to end (no posted alert)', () => {
  it('relay-down: SmtpRelayDown fires from the probe, relayUnresponsive fixes it, the alert resolves', async () => {
    await alertToRecovery('relay-down', 'SmtpRelayDown', 'relayUnresponsive', [
      'restart-relay-watchdog',
      'flush-queue',
    ]);
  }, 420_000);

  it('a queue backlog: PostfixQueueBacklog fires from showq, queueBacklog flushes it, the alert resolves', async () => {
    await alertToRecovery('queue-flood', 'PostfixQueueBacklog', 'queueBacklog', ['flush-queue']);
    expect(
      await prometheusValue(monitoring.prometheusUrl, 'sum(postfix_showq_message_size_bytes_count)'),
    ).toBeLessThanOrEqual(100);
  }, 600_000);
});
