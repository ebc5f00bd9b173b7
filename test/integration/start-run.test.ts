/**
 * The one start path (src/temporal/start-run.ts) on a real Temporal dev server: whoever starts a runbook
 * first (the CLI, an alert through the receiver's dispatcher, or a schedule's fleet through its
 * `scheduledFleet` workflow), a second start of the same runbook on the same target finds the running run
 * and says who started it; once that run has ended, a start starts a new one.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/body.js';
import { temporalDispatcher } from '../../src/alerts/dispatch.js';
import type { Dispatcher } from '../../src/alerts/receiver.js';
import * as activities from '../../src/activities/start-run.js';
import { fleetStatusQuery, type FleetTarget, type ScheduledFleetResult } from '../../src/shared/fleet.js';
import type { StartRunbookResult } from '../../src/shared/start.js';
import type { RunbookInput } from '../../src/shared/types.js';
import { ensureSchedules, scheduleId, triggerSchedule } from '../../src/temporal/schedules.js';
import { runWorkflowId, startRunbook } from '../../src/temporal/start-run.js';
import { inProcessCli, type Cli } from '../helpers/cli.js';
import { saveHistories } from '../helpers/histories.js';
import { pollUntil } from '../helpers/poll.js';
import { startTestWorker, type TestWorker } from '../helpers/test-worker.js';
import { finishSignal, type queueBacklog } from '../workflows/start-run-fixture.js';

const RUNBOOK = 'queueBacklog';
const taskQueue = `starts-${randomUUID()}`;
const workflowsPath = fileURLToPath(new URL('../workflows/start-run-fixture.ts', import.meta.url));
const exampleConfig = fileURLToPath(new URL('../../docs/config.example.yaml', import.meta.url));

let temporal: TestWorker;
let env: TestWorkflowEnvironment;
let cli: Cli;
let dispatcher: Dispatcher;

const alert: Alert = {
  status: 'firing',
  labels: { alertname: 'PostfixQueueBacklog' },
  annotations: {},
  startsAt: new Date().toISOString(),
  fingerprint: 'f00dfeed',
};

async function cliStart(target: string): Promise<StartRunbookResult> {
  const r = await cli('start', RUNBOOK, '--target', target, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StartRunbookResult;
}

/** The workflow id of the last `scheduledFleet` run scheduleStart saw. */
let lastStarterId = '';

/**
 * Triggers a schedule of `target` alone and returns what its fleet did with the target once it got to it
 * (started a child, or left a running run alone), with what the starter workflow said.
 */
async function scheduleStart(target: string): Promise<{ fleet: ScheduledFleetResult; child: FleetTarget }> {
  const spec = {
    name: 'backlog-check',
    runbook: RUNBOOK,
    cron: '0 3 * * *',
    timezone: 'UTC',
    jitterSeconds: 0,
    selection: target,
    targets: [target],
    maxConcurrent: 1,
    maxFailures: 1,
  };
  const [ensured] = await ensureSchedules(env.client, [spec], { taskQueue });
  expect(ensured?.outcome).toBe('created');
  const id = scheduleId(spec);
  await triggerSchedule(env.client, id);
  const schedule = env.client.schedule.getHandle(id);
  const action = await pollUntil(20_000, `schedule ${id} acts`, async () => {
    return (await schedule.describe()).info.recentActions[0]?.action;
  });
  await schedule.delete();
  lastStarterId = action.workflow.workflowId;
  const fleet = (await env.client.workflow
    .getHandle(action.workflow.workflowId)
    .result()) as ScheduledFleetResult;
  const child = await pollUntil(20_000, `the fleet gets to ${target}`, async () => {
    const status = await env.client.workflow.getHandle(fleet.workflowId).query(fleetStatusQuery);
    const t = status.targets[0];
    return t && t.state !== 'waiting' ? t : undefined;
  });
  return { fleet, child };
}

/** Ends the run of `target` and returns its input (the trigger of whoever started it). */
async function finish(target: string): Promise<RunbookInput> {
  const handle = env.client.workflow.getHandle<typeof queueBacklog>(runWorkflowId(RUNBOOK, target));
  await handle.signal(finishSignal);
  return handle.result();
}

/** Every run of the runbook on the target, so a test can show there was only ever one. */
async function runIds(target: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of env.client.workflow.list({
    query: `WorkflowId = '${runWorkflowId(RUNBOOK, target)}'`,
  }))
    ids.push(wf.runId);
  return ids;
}

beforeAll(async () => {
  temporal = await startTestWorker({ taskQueue, workflowsPath, activities });
  env = temporal.env;
  cli = await inProcessCli(env, taskQueue, { USER: 'alice' });
  dispatcher = temporalDispatcher(env.client, { taskQueue });
});

afterAll(async () => {
  // The histories project replays these (scheduledStart included) and scans them for secrets.
  if (env) await saveHistories(env.client, 'start-run', workflowsPath);
  await temporal?.stop();
});

const message = (target: string, startedBy: string, run: { runId: string; startedAt: string }) =>
  `${RUNBOOK} is already running on ${target} (started by ${startedBy} at ${run.startedAt}): ` +
  `workflow mrb.${RUNBOOK}.${target} run ${run.runId}; not starting another`;

describe('one way to start a run', () => {
  it('CLI then alert: the alert finds the CLI run', async () => {
    const started = await cliStart('t1');
    expect(started).toMatchObject({ outcome: 'started', workflowId: 'mrb.queueBacklog.t1', taskQueue });
    const fired = await dispatcher.fire(RUNBOOK, 't1', alert);
    expect(fired).toMatchObject({
      outcome: 'deduplicated',
      workflowId: started.workflowId,
      runId: started.runId,
    });
    expect(fired.message).toBe(message('t1', 'alice (manual start)', started));
    expect(await finish('t1')).toMatchObject({ target: 't1', trigger: { kind: 'manual', ref: 'alice' } });
    expect(await runIds('t1')).toEqual([started.runId]);
  });

  it('alert then CLI: the CLI says the alert run is going on and starts nothing', async () => {
    const fired = await dispatcher.fire(RUNBOOK, 't2', alert);
    expect(fired.outcome).toBe('started');
    const r = await cli('start', RUNBOOK, '--target', 't2');
    expect(r.code, r.stderr).toBe(0);
    const [headline, ...rest] = r.stdout.trimEnd().split('\n');
    expect(headline).toMatch(
      new RegExp(
        '^queueBacklog is already running on t2 \\(started by alert PostfixQueueBacklog \\(fingerprint f00dfeed\\) ' +
          `at \\S+\\): workflow mrb\\.queueBacklog\\.t2 run ${fired.runId}; not starting another$`,
      ),
    );
    expect(rest).toEqual([
      '  follow it: npx mail-runbooks watch mrb.queueBacklog.t2',
      '  details:   npx mail-runbooks show mrb.queueBacklog.t2',
    ]);
    expect(await finish('t2')).toMatchObject({ trigger: { kind: 'alert', ref: 'f00dfeed' } });
    expect(await runIds('t2')).toEqual([fired.runId]);
  });

  it("alert then schedule: the schedule's fleet leaves the alert run alone", async () => {
    const fired = await dispatcher.fire(RUNBOOK, 't3', alert);
    expect(fired.outcome).toBe('started');
    const scheduled = await scheduleStart('t3');
    expect(scheduled.fleet).toMatchObject({ outcome: 'started', workflowId: 'mrb.fleet.queueBacklog.t3' });
    expect(scheduled.child).toMatchObject({
      state: 'already-running',
      workflowId: 'mrb.queueBacklog.t3',
      detail: 'a run of queueBacklog is already going on t3; left alone',
    });
    expect(await finish('t3')).toMatchObject({ trigger: { kind: 'alert' } });
    expect(await runIds('t3')).toEqual([fired.runId]);
  });

  it("schedule then CLI: the schedule's fleet starts the run, the CLI finds it", async () => {
    const { child } = await scheduleStart('t4');
    expect(child).toMatchObject({ state: 'running', workflowId: 'mrb.queueBacklog.t4' });
    const second = await cliStart('t4');
    const startedBy = 'schedule backlog-check via fleet mrb.fleet.queueBacklog.t4';
    expect(second).toMatchObject({ outcome: 'already-running', runId: child.runId, startedBy, taskQueue });
    expect(second.message).toBe(message('t4', startedBy, second));
    expect(await finish('t4')).toMatchObject({ trigger: { kind: 'schedule', ref: 'backlog-check' } });
    expect(await runIds('t4')).toEqual([child.runId]);
  });

  it('CLI then CLI: the second returns the running run; after it ended, a start starts a new run', async () => {
    const first = await cliStart('t5');
    expect(first.outcome).toBe('started');
    const second = await cliStart('t5');
    expect(second).toMatchObject({ outcome: 'already-running', runId: first.runId });
    expect(second.message).toBe(message('t5', 'alice (manual start)', second));
    await finish('t5');

    const third = await startRunbook(env.client, {
      runbook: RUNBOOK,
      target: 't5',
      trigger: { kind: 'alert', ref: 'again' },
      taskQueue,
    });
    expect(third).toMatchObject({ outcome: 'started', workflowId: first.workflowId });
    expect(third.runId).not.toBe(first.runId);
    await finish('t5');
    expect((await runIds('t5')).sort()).toEqual([first.runId, third.runId].sort());
  });

  it("the CLI without --target starts on the config's default target, and says when no config is found", async () => {
    const r = await cli('start', RUNBOOK, '--config', exampleConfig, '--json');
    expect(r.code, r.stderr).toBe(0);
    const started = JSON.parse(r.stdout) as StartRunbookResult;
    // docs/config.example.yaml: defaultTarget: lab
    expect(started).toMatchObject({ outcome: 'started', target: 'lab', workflowId: 'mrb.queueBacklog.lab' });
    expect(await finish('lab')).toMatchObject({ target: 'lab' });

    const missing = await cli('start', RUNBOOK, '--config', '/nonexistent/mail-runbooks.yaml');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe(
      'mail-runbooks: start without --target (to find the default target) needs a config file: config file ' +
        '/nonexistent/mail-runbooks.yaml (given with --config) does not exist: create it, or give an existing ' +
        'file (start from docs/config.example.yaml)\n',
    );
  });

  it("every start path gives the run the Web UI's summary (runbook, target, who) and details, outside text cleaned", async () => {
    const metadata = async (workflowId: string) => {
      const d = await env.client.workflow.getHandle(workflowId).describe();
      return { summary: await d.staticSummary(), details: (await d.staticDetails()) ?? '' };
    };
    await cliStart('t6');
    const cliRun = await metadata('mrb.queueBacklog.t6');
    expect(cliRun.summary).toBe('queueBacklog on t6 (started by alice (manual start))');
    expect(cliRun.details).toContain('**queueBacklog** on target **t6**: queue backlog / send failures');
    expect(cliRun.details).toContain('| started by | alice (manual start) |');
    expect(cliRun.details).toContain('| trigger | a person (CLI) |');
    await finish('t6');

    // An alert's name is outside text: no markdown, HTML or table breaks reach the UI.
    await dispatcher.fire(RUNBOOK, 't7', {
      ...alert,
      labels: { alertname: 'Backlog<img src=x>|**bold**' },
      fingerprint: 'c0ffee',
    });
    const alertRun = await metadata('mrb.queueBacklog.t7');
    expect(alertRun.summary).toBe(
      'queueBacklog on t7 (started by alert Backlog?img src=x????bold?? (fingerprint c0ffee))',
    );
    expect(alertRun.details).toContain('| trigger | an alert (Alertmanager → the receiver) |');
    expect(alertRun.details).not.toMatch(/<img|\*\*bold/);
    await finish('t7');

    await scheduleStart('t8');
    const scheduledRun = await metadata('mrb.queueBacklog.t8');
    expect(scheduledRun.summary).toBe(
      'queueBacklog on t8 (started by schedule backlog-check via fleet mrb.fleet.queueBacklog.t8)',
    );
    expect(scheduledRun.details).toContain('| trigger | a schedule |');
    const starter = await metadata(lastStarterId);
    expect(starter.summary).toBe('start a queueBacklog fleet on t8 (schedule backlog-check)');
    expect(starter.details).toContain('Started by the schedule **backlog-check**');
    const fleetRun = await metadata('mrb.fleet.queueBacklog.t8');
    expect(fleetRun.summary).toBe(
      'queueBacklog fleet on 1 target(s) (t8), started by schedule backlog-check',
    );
    await finish('t8');
  });
});
