/**
 * The fleet workflow on a real Temporal test server: child runs under each target's own run id, at most
 * maxConcurrent at once, no new child after maxFailures, a target whose run is already going left alone,
 * progress in the fleetStatus query, and a report per target.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { fleetStatusQuery, type FleetInput, type FleetReport } from '../../src/shared/fleet.js';
import { runWorkflowId } from '../../src/shared/start.js';
import { inProcessCli } from '../helpers/cli.js';
import { pollUntil } from '../helpers/poll.js';
import { releaseSignal } from './fleet-fixture.js';
import * as activities from './fleet-fixture-activities.js';
import { fleetFixtureWorker } from './fleet-fixture-worker.js';

const taskQueue = `fleet-${randomUUID()}`;
const worker = fleetFixtureWorker(taskQueue);

beforeEach(() => {
  activities.seen.running.clear();
  activities.seen.most = 0;
  activities.seen.started.length = 0;
});

/** Targets unique to one test (target names are part of the children's workflow ids). */
const names = (...prefixes: string[]): string[] => {
  const id = randomUUID().slice(0, 8);
  return prefixes.map((p, i) => `${p}-${id}-${i}`);
};

function startFleet(input: Partial<FleetInput> & { targets: string[] }) {
  return worker().env.client.workflow.start<(input: FleetInput) => Promise<FleetReport>>('fleet', {
    taskQueue,
    workflowId: `fleet-test-${randomUUID()}`,
    args: [
      {
        runbook: 'endToEndVerification',
        maxConcurrent: 2,
        maxFailures: 3,
        trigger: { kind: 'manual', ref: 'alice' },
        ...input,
      } satisfies FleetInput,
    ],
  });
}

describe('fleet', () => {
  it('runs every target, at most maxConcurrent at once, and reports each', async () => {
    const targets = names('ok', 'ok', 'ok', 'ok', 'ok', 'ok');
    const handle = await startFleet({ targets, maxConcurrent: 2 });
    const midway = await pollUntil(30_000, 'two children running', async () => {
      const st = await handle.query(fleetStatusQuery);
      return st.counts.running === 2 ? st : undefined;
    });
    expect(midway.counts.waiting + midway.counts.done).toBe(4);
    const report = await handle.result();
    expect(report.verdict).toBe('ok');
    expect(report.counts.done).toBe(6);
    expect(activities.seen.most).toBe(2);
    expect(report.targets.map((t) => [t.target, t.verdict, t.workflowId])).toEqual(
      targets.map((t) => [t, 'healthy', runWorkflowId('endToEndVerification', t)]),
    );
    const described = await handle.describe();
    expect(described.status.name).toBe('COMPLETED');
  });

  it('starts no new child after maxFailures, and lets the running ones finish', async () => {
    const targets = names('fail', 'throw', 'ok', 'ok', 'ok');
    const report: FleetReport = await (
      await startFleet({ targets, maxConcurrent: 1, maxFailures: 2 })
    ).result();
    expect(report.verdict).toBe('stopped');
    expect(report.targets.map((t) => t.state)).toEqual([
      'done',
      'done',
      'not-started',
      'not-started',
      'not-started',
    ]);
    expect(report.targets[0]).toMatchObject({ verdict: 'failed', failed: true });
    expect(report.targets[1]!.detail).toMatch(/ended without a report/);
    expect(report.failures).toBe(2);
    expect(activities.seen.started).toEqual(targets.slice(0, 2));
  });

  it('leaves alone a target whose run is already going, without counting it as failed', async () => {
    const [held, other] = names('slow', 'ok');
    const holder = await worker().env.client.workflow.start('endToEndVerification', {
      taskQueue,
      workflowId: runWorkflowId('endToEndVerification', held!),
      args: [{ target: held }],
    });
    await pollUntil(10_000, 'the holder runs', async () =>
      activities.seen.running.has(held!) ? true : undefined,
    );
    const report = await (await startFleet({ targets: [held!, other!] })).result();
    expect(report.verdict).toBe('ok');
    expect(report.targets.map((t) => t.state)).toEqual(['already-running', 'done']);
    expect(report.targets[0]!.failed).toBeUndefined();
    await holder.signal(releaseSignal);
    expect(((await holder.result()) as { verdict: string }).verdict).toBe('healthy');
  });

  it('refuses bad input with a clear error', async () => {
    const handle = await startFleet({ targets: ['a', 'a'] });
    await expect(handle.result()).rejects.toThrow(/Workflow execution failed/);
    const failure = await handle.result().then(
      () => 'completed',
      (err: { cause?: { message?: string } }) => err.cause?.message,
    );
    expect(failure).toMatch(/a target is listed twice/);
  });
});

describe('mail-runbooks fleet', () => {
  it('runs the runbook on the targets a label picks, following progress, with a line per target', async () => {
    const [eu1, eu2, us1] = names('ok', 'ok', 'ok');
    const example = parse(await readFile('docs/config.example.yaml', 'utf8')) as {
      targets: Array<Record<string, unknown>>;
      defaultTarget: string;
      schedules?: unknown;
    };
    const template = example.targets[0]!;
    example.targets = [
      { ...template, name: eu1, labels: { site: 'eu' } },
      { ...template, name: eu2, labels: { site: 'eu' } },
      { ...template, name: us1, labels: { site: 'us' } },
    ];
    example.defaultTarget = eu1!;
    delete example.schedules;
    const config = join(await mkdtemp(join(tmpdir(), 'mrb-fleet-cli-')), 'fleet.yaml');
    await writeFile(config, stringify(example));
    const cli = await inProcessCli(worker().env, taskQueue);

    const r = await cli(
      'fleet',
      'endToEndVerification',
      '-c',
      config,
      '--targets',
      'label=site=eu',
      '--max-concurrent',
      '2',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('started endToEndVerification on 2 target(s), 2 at a time');
    expect(r.stdout).toContain('verdict: ok');
    expect(r.stdout).toMatch(new RegExp(`${eu1}\\s+healthy`));
    expect(r.stdout).toMatch(new RegExp(`${eu2}\\s+healthy`));
    expect(r.stdout).not.toContain(us1);
    expect(activities.seen.started.sort()).toEqual([eu1, eu2].sort());

    const wrong = await cli('fleet', 'endToEndVerification', '-c', config, '--targets', 'label=site=mars');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(
      'no target has the label site=mars; labels in the config: site=eu, site=us',
    );
  });
});
