/**
 * A config schedule is one Temporal schedule that starts a fleet (issue 14, point 4), on a real Temporal
 * test server: `ensureSchedules` creates it from the config (a label selection), deletes the per-target
 * schedules of older versions it replaces, and changes nothing when run again; triggered, it starts one
 * fleet with a child per selected target, each child saying the schedule started it; triggered again while
 * that fleet is going, it leaves it alone.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { scheduleSpecs } from '../../src/cli/schedules.js';
import { parseConfig } from '../../src/config/load.js';
import {
  FLEET_WORKFLOW,
  fleetStatusQuery,
  fleetWorkflowId,
  type FleetReport,
  type ScheduledFleetResult,
} from '../../src/shared/fleet.js';
import { SCHEDULED_START_WORKFLOW } from '../../src/shared/start.js';
import { ensureSchedules, scheduleId, scheduledWork, triggerSchedule } from '../../src/temporal/schedules.js';
import { inProcessCli } from '../helpers/cli.js';
import { pollUntil } from '../helpers/poll.js';
import { recordFixture } from './harness.js';
import { releaseSignal } from './fleet-fixture.js';
import * as activities from './fleet-fixture-activities.js';
import { fleetFixtureWorker } from './fleet-fixture-worker.js';

const taskQueue = `scheduled-fleet-${randomUUID()}`;
const RUNBOOK = 'endToEndVerification';
const worker = fleetFixtureWorker(taskQueue);

/** The example config with three labelled targets (`slow-*`: the stand-in runbook waits to be released). */
async function configWith(schedule: Record<string, unknown>, id: string) {
  const { text, eu, us1 } = await configText(schedule, id);
  return { config: parseConfig(text, 'scheduled-fleet.yaml'), eu, us1 };
}

async function configText(schedule: Record<string, unknown>, id: string) {
  const example = parse(await readFile('docs/config.example.yaml', 'utf8')) as {
    targets: Array<Record<string, unknown>>;
    defaultTarget: string;
    schedules?: unknown;
  };
  const template = example.targets[0]!;
  const [eu1, eu2, us1] = [`slow-${id}-eu1`, `slow-${id}-eu2`, `ok-${id}-us1`];
  example.targets = [
    { ...template, name: eu1, labels: { site: 'eu' } },
    { ...template, name: eu2, labels: { site: 'eu' } },
    { ...template, name: us1, labels: { site: 'us' } },
  ];
  example.defaultTarget = eu1;
  example.schedules = [schedule];
  return { text: stringify(example), eu: [eu1, eu2], us1 };
}

/** A schedule as versions before the fleet made them: one per target, starting `scheduledStart`, paused. */
async function oldPerTargetSchedule(name: string, target: string): Promise<string> {
  const id = `mrb.${name}.${target}`;
  await worker().env.client.schedule.create({
    scheduleId: id,
    spec: { cronExpressions: ['30 2 * * *'] },
    action: {
      type: 'startWorkflow',
      workflowType: SCHEDULED_START_WORKFLOW,
      taskQueue,
      workflowId: `${SCHEDULED_START_WORKFLOW}.${name}.${target}`,
      args: [{ runbook: RUNBOOK, target, schedule: name }],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    state: { paused: true },
  });
  return id;
}

async function listedIds(): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of worker().env.client.schedule.list()) ids.push(s.scheduleId);
  return ids;
}

/** The starter run the schedule's latest action started, and its result. */
async function latestStart(id: string, after: number): Promise<ScheduledFleetResult> {
  const handle = worker().env.client.schedule.getHandle(id);
  const action = await pollUntil(20_000, `schedule ${id} acts`, async () => {
    const recent = (await handle.describe()).info.recentActions;
    return recent.length > after ? recent[recent.length - 1]!.action : undefined;
  });
  return worker()
    .env.client.workflow.getHandle(action.workflow.workflowId)
    .result() as Promise<ScheduledFleetResult>;
}

describe('a config schedule starts a fleet', () => {
  it('one schedule per config schedule, replacing the per-target ones; ensure twice changes nothing', async () => {
    const id = randomUUID().slice(0, 8);
    const name = `nightly-${id}`;
    const { config, eu, us1 } = await configWith(
      { name, runbook: RUNBOOK, cron: '30 2 * * *', targets: 'label=site=eu', maxConcurrent: 2 },
      id,
    );
    const specs = scheduleSpecs(config);
    const client = worker().env.client;

    // An older version made one schedule per target; ensure replaces them with the one schedule.
    const old = [await oldPerTargetSchedule(name, eu[0]!), await oldPerTargetSchedule(name, eu[1]!)];
    // A schedule of another name that looks alike is not ours to delete.
    const unrelated = await oldPerTargetSchedule(`other-${id}`, eu[0]!);
    await pollUntil(20_000, 'the old schedules are listed', async () => {
      const ids = await listedIds();
      return [...old, unrelated].every((o) => ids.includes(o)) ? true : undefined;
    });

    const first = await ensureSchedules(client, specs, { taskQueue });
    expect(first).toEqual([
      { id: `mrb.${name}`, outcome: 'created' },
      ...old.map((o) => ({ id: o, outcome: 'deleted', replacedBy: `mrb.${name}` })),
    ]);
    const before = await client.schedule.getHandle(scheduleId({ name })).describe();
    // Again, even while the list still shows the deleted ones: nothing changes.
    expect(await ensureSchedules(client, specs, { taskQueue })).toEqual([
      { id: `mrb.${name}`, outcome: 'unchanged' },
    ]);
    const after = await client.schedule.getHandle(scheduleId({ name })).describe();
    expect(after.raw.conflictToken).toEqual(before.raw.conflictToken);
    for (const o of old) await expect(client.schedule.getHandle(o).describe()).rejects.toThrow(/not found/i);
    expect((await client.schedule.getHandle(unrelated).describe()).scheduleId).toBe(unrelated);
    expect(await scheduledWork(client, `mrb.${name}`)).toEqual({ runbook: RUNBOOK, on: 'label=site=eu' });

    // Triggered: one fleet, under the fleet's own id, with a child per selected target.
    await triggerSchedule(client, `mrb.${name}`);
    const started = await latestStart(`mrb.${name}`, 0);
    const fleetId = fleetWorkflowId(RUNBOOK, 'label=site=eu');
    expect(started).toMatchObject({ outcome: 'started', workflowId: fleetId, startedBy: `schedule ${name}` });
    const fleet = client.workflow.getHandle<() => Promise<FleetReport>>(fleetId);
    await pollUntil(20_000, 'both children running', async () =>
      (await fleet.query(fleetStatusQuery)).counts.running === 2 ? true : undefined,
    );

    // Triggered again while that fleet is going: it is left alone, no second fleet.
    await triggerSchedule(client, `mrb.${name}`);
    const again = await latestStart(`mrb.${name}`, 1);
    expect(again).toMatchObject({
      outcome: 'already-running',
      workflowId: fleetId,
      runId: started.runId,
      startedBy: `schedule ${name}`,
    });

    // Each child says it came from the schedule: its input's trigger, its memo and its Web UI summary.
    for (const target of eu) {
      const child = client.workflow.getHandle(`mrb.${RUNBOOK}.${target}`);
      const d = await child.describe();
      expect(d.memo).toEqual({
        trigger: { kind: 'schedule', ref: name },
        startedBy: `schedule ${name} via fleet ${fleetId}`,
      });
      expect(await d.staticSummary()).toBe(
        `${RUNBOOK} on ${target} (started by schedule ${name} via fleet ${fleetId})`,
      );
      await child.signal(releaseSignal);
    }
    const report = await fleet.result();
    expect(report.verdict).toBe('ok');
    expect(report.targets.map((t) => [t.target, t.verdict])).toEqual(eu.map((t) => [t, 'healthy']));
    expect(activities.seen.started).not.toContain(us1);

    const fleets: string[] = [];
    for await (const wf of client.workflow.list({
      query: `WorkflowType = '${FLEET_WORKFLOW}' AND WorkflowId = '${fleetId}'`,
    }))
      fleets.push(wf.runId);
    expect(fleets).toEqual([started.runId]);
    // A fleet on the patched path (fleet-child-names-its-trigger), and the schedule's starter.
    await recordFixture(client, 'fleet', 'scheduled-children-name-the-schedule', fleetId);
  });

  it('`schedules ensure` says what it created and which per-target schedules it deleted; `list` names the fleet', async () => {
    const id = randomUUID().slice(0, 8);
    const name = `cli-${id}`;
    const { text, eu } = await configText(
      { name, runbook: RUNBOOK, cron: '30 2 * * *', targets: 'label=site=eu' },
      id,
    );
    const file = join(await mkdtemp(join(tmpdir(), 'mrb-scheduled-fleet-')), 'config.yaml');
    await writeFile(file, text);
    const old = await oldPerTargetSchedule(name, eu[0]!);
    await pollUntil(20_000, 'the old schedule is listed', async () =>
      (await listedIds()).includes(old) ? true : undefined,
    );
    const cli = await inProcessCli(worker().env, taskQueue);

    const first = await cli('schedules', 'ensure', '-c', file);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe(
      `created   mrb.${name}\n` +
        `deleted   ${old} (one schedule per target, from an older version; replaced by mrb.${name})\n`,
    );
    const second = await cli('schedules', 'ensure', '-c', file);
    expect(second.stdout).toBe(`unchanged mrb.${name}\n`);
    const listed = await pollUntil(20_000, 'the new schedule is listed', async () => {
      const r = await cli('schedules', 'list');
      return r.stdout.includes(`mrb.${name} `) ? r.stdout : undefined;
    });
    expect(listed).toContain(`mrb.${name}  ${RUNBOOK} on label=site=eu  next `);
    await cli('schedules', 'delete', `mrb.${name}`);
  });
});
