/**
 * A flapping alert against the lab relay (issue 11, point 4): for a minute (`npm test`, a sample) or two
 * (MRB_FLAP_SECONDS=120, the figure: `npm run flapping`) the relay goes down and its
 * alert fires, then resolves, every few seconds, through the real receiver to relayUnresponsive with
 * `unattended: [restart-relay-watchdog, flush-queue]`. The relay's own supervisord log counts the restarts:
 * no more than the cooldown and the hourly budget allow; the runs past a limit asked a person, saying why.
 * MRB_FLAP_NO_LIMITS=1 runs it with limits nobody reaches, to see it fail without them.
 * Run under the lab lock: flock /tmp/mrb-lab.lock npx vitest run --project integration <this file>.
 */
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { temporalDispatcher } from '../../src/alerts/dispatch.js';
import type { Receiver } from '../../src/alerts/receiver.js';
import { startTestReceiver, webhookBody } from '../helpers/receiver.js';
import { FAULTS, findFault, healFault, injectFault } from '../../src/lab/faults.js';
import { statusQuery } from '../../src/shared/messages.js';
import type { RunbookReport } from '../../src/shared/types.js';
import { runWorkflowId } from '../../src/temporal/start-run.js';
import { ensureLab, inLab, type Lab } from '../helpers/lab.js';
import { runbookHarness, type RunbookHarness } from '../helpers/runbooks.js';

/** How long the alert flaps: bounded to 10 min whatever the environment says. */
const FLAP_MS = Math.min(Number(process.env.MRB_FLAP_SECONDS ?? '60'), 600) * 1000;
const CYCLE_MS = 6_000;
/**
 * The first run (restart, flush, canary delivery) can outlast a one-minute sample on a busy machine, and only
 * a later firing shows the limits asking a person: flapping goes on until one has, for at most this long more.
 */
const EXTRA_FLAP_MS = 180_000;
const RESOLVE_AFTER_MS = 3_000;
const TOKEN = `flap-${randomUUID()}`;
const FINGERPRINT = 'relay-down-flapping';
const SUPERVISORD_LOG = '/var/log/supervisor/supervisord.log';
const NO_LIMITS = process.env.MRB_FLAP_NO_LIMITS === '1';
/** One restart and one flush spend the hour's budget; the cooldown outlasts the test. */
const LIMITS = NO_LIMITS
  ? { cooldownSeconds: 0, actionsPerHour: 1_000, fleetActionsPerHour: 10_000 }
  : { cooldownSeconds: 300, actionsPerHour: 2, fleetActionsPerHour: 100 };
const ALLOWED_RESTARTS = 1;

let lab: Lab;
let h: RunbookHarness;
let receiver: Receiver;
const receiverLog: string[] = [];

beforeAll(async () => {
  lab = await ensureLab();
  for (const fault of FAULTS) await healFault(lab.ctx, fault);
  const config = parse(await readFile(lab.up.config, 'utf8')) as {
    targets: { approval: Record<string, unknown> }[];
    limits?: unknown;
  };
  Object.assign(config.targets[0]!.approval, {
    unattended: ['restart-relay-watchdog', 'flush-queue'],
    // A request nobody answers ends within the test, so later firings start new runs.
    timeoutSeconds: 60,
    reminderAfterSeconds: 0,
  });
  config.limits = LIMITS;
  const path = join(lab.ctx.paths.dir, 'flapping.yaml');
  await writeFile(path, stringify(config), { mode: 0o600 });
  h = await runbookHarness(path);
  receiver = await startTestReceiver({
    token: TOKEN,
    targets: ['lab'],
    routes: { RelayDown: 'relayUnresponsive' },
    dispatcher: temporalDispatcher(h.env.client, { taskQueue: h.taskQueue }),
    logTo: receiverLog,
  });
}, 600_000);

afterAll(async () => {
  await receiver?.close();
  if (lab) await healFault(lab.ctx, findFault('relay-down')).catch(() => undefined);
  await h?.teardown('alert-flapping');
});

async function relaySpawns(): Promise<number> {
  const log = await inLab(lab, 'relay', ['cat', SUPERVISORD_LOG]);
  return log.stdout.split('\n').filter((l) => l.includes("spawned: 'smtp-relay'")).length;
}

async function relayRunning(): Promise<boolean> {
  const st = await inLab(lab, 'relay', ['supervisorctl', 'status', 'smtp-relay'], { allowFail: true });
  return /RUNNING/.test(st.stdout);
}

async function post(status: 'firing' | 'resolved'): Promise<void> {
  const alert = {
    status,
    labels: { alertname: 'RelayDown', target: 'lab' },
    annotations: { summary: 'relay port 2526 down' },
    startsAt: new Date(Date.now() - 10_000).toISOString(),
    ...(status === 'resolved' && { endsAt: new Date().toISOString() }),
    fingerprint: FINGERPRINT,
  };
  const res = await fetch(`${receiver.url}/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: webhookBody([alert], {
      groupKey: '{}:{alertname="RelayDown"}',
      groupLabels: { alertname: 'RelayDown' },
      commonLabels: alert.labels,
    }),
  });
  expect(res.status, await res.text()).toBeLessThan(300);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

it(
  'a relay alert flapping for two minutes restarts the relay no more often than the limits allow',
  { timeout: FLAP_MS + EXTRA_FLAP_MS + 240_000 },
  async () => {
    const spawnsBefore = await relaySpawns();
    const end = Date.now() + FLAP_MS;
    const hardEnd = end + EXTRA_FLAP_MS;
    let cycles = 0;
    const run = h.env.client.workflow.getHandle(runWorkflowId('relayUnresponsive', 'lab'));
    /** Why the runs past a limit asked a person (the start of their requests' reason). */
    const asked = new Set<string>();
    // Bounded: one cycle per CYCLE_MS until FLAP_MS has passed and a run past the limits has asked a
    // person, and never past hardEnd.
    const maxCycles = (FLAP_MS + EXTRA_FLAP_MS) / CYCLE_MS + 1;
    while ((Date.now() < end || asked.size === 0) && Date.now() < hardEnd && cycles < maxCycles) {
      cycles++;
      const cycleEnd = Date.now() + CYCLE_MS;
      if (await relayRunning()) await injectFault(lab.ctx, findFault('relay-down'), []);
      await post('firing');
      await sleep(RESOLVE_AFTER_MS);
      await post('resolved');
      const pending = await run.query(statusQuery).then(
        (st) => st.pending,
        () => undefined,
      );
      if (pending) asked.add(pending.reason.split(', so a person decides.')[0]!);
      await sleep(Math.max(0, cycleEnd - Date.now()));
    }
    const restarts = (await relaySpawns()) - spawnsBefore;

    // Every run the flapping started, ended: what each did, and why a person was asked.
    const reports: RunbookReport[] = [];
    for await (const wf of h.env.client.workflow.list({ query: `WorkflowType = 'relayUnresponsive'` })) {
      const handle = h.env.client.workflow.getHandle(wf.workflowId, wf.runId);
      if (wf.status.name === 'RUNNING') await handle.terminate('the flapping test is over');
      else
        reports.push(
          ...(await handle.result().then(
            (r) => [r as RunbookReport],
            () => [],
          )),
        );
    }
    const summary = {
      cycles,
      restarts,
      runs: reports.length,
      verdicts: reports.map((r) => r.verdict),
      askedBecause: [...asked],
    };
    console.log('alert flapping:', JSON.stringify(summary));
    expect(cycles).toBeGreaterThanOrEqual(FLAP_MS / CYCLE_MS - 2);
    expect(restarts, JSON.stringify(summary)).toBeGreaterThanOrEqual(1);
    expect(restarts, JSON.stringify(summary)).toBeLessThanOrEqual(ALLOWED_RESTARTS);
    // Every later firing found the relay down: past the limits it asked a person, and said why.
    expect([...asked].length, JSON.stringify(summary)).toBeGreaterThanOrEqual(1);
    for (const why of asked)
      expect(why).toMatch(
        /^(cooldown: restart-relay-watchdog ran on lab \d+ s ago|budget: \d+ actions on lab)/,
      );
  },
);
