/**
 * The operator CLI (src/client.ts) on a real Temporal dev server, with a worker running the engine fixture
 * (its `repair` step awaits approval) registered as `queueBacklog`: start, list --awaiting, show (text and
 * JSON), approve / reject through the `decide` Update, watch until the end, the final report; schedules;
 * errors (unknown run, nothing pending, a step that is not pending, server unreachable) as one line and
 * exit code 1. Commands run in-process through `run()` (fast); the bin is spawned for the unreachable
 * server and one real listing.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunView } from '../../src/cli/run-state.js';
import { UNSIGNED_NOTE } from '../../src/cli/decision.js';
import type { RunRow } from '../../src/cli/render.js';
import { inProcessCli, type Cli, type CliResult as Result } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { startTestWorker, type TestWorker } from '../helpers/test-worker.js';
import * as fixtureActivities from '../workflows/engine-fixture-activities.js';
import { pollUntil } from '../helpers/poll.js';

const { world } = fixtureActivities;
const taskQueue = `cli-${randomUUID()}`;
const workflowsPath = fileURLToPath(new URL('../helpers/cli-workflows.ts', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/mail-runbooks.js', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

let temporal: TestWorker;
/** One CLI invocation in-process, with its own captured output. */
let cli: Cli;
/** While set, the `look` activity waits for it: a run that is busy with no step awaiting approval. */
let lookGate: Promise<void> | undefined;
let openLookGate = (): void => undefined;

/** One line of `watch --json`. */
interface WatchLine {
  event: string;
  step?: { name: string };
  decision?: Record<string, unknown>;
  [key: string]: unknown;
}

async function cliJson<T>(...args: string[]): Promise<T> {
  const r = await cli(...args, '--json');
  expect(r, r.stderr).toMatchObject({ code: 0 });
  return JSON.parse(r.stdout) as T;
}

/** A failure: exit code 1, exactly one line on stderr (and nothing on stdout unless it is watch's log). */
function expectOneLineError(r: Result, pattern: RegExp, stdoutEmpty = true): void {
  expect(r.code).toBe(1);
  if (stdoutEmpty) expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr.trimEnd()).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

async function startRun(target = 'lab'): Promise<string> {
  const started = await cliJson<{ workflowId: string; taskQueue: string }>(
    'start',
    'queueBacklog',
    '--target',
    target,
  );
  expect(started.taskQueue).toBe(taskQueue);
  return started.workflowId;
}

const awaitingApproval = (id: string) =>
  pollUntil(20_000, `${id} awaiting approval`, async () => {
    const view = await cliJson<RunView>('show', id);
    return view.status?.pending ? view : undefined;
  });

beforeAll(async () => {
  temporal = await startTestWorker({
    taskQueue,
    workflowsPath,
    activities: {
      ...fixtureActivities,
      look: async () => {
        await lookGate;
        return fixtureActivities.look();
      },
      loadTargetPlan: (target?: string) => fixtureActivities.makePlan()(target),
    },
  });
  cli = await inProcessCli(temporal.env, taskQueue);
});

afterEach(() => openLookGate()); // a failed test must not leave an activity blocked (shutdown waits for it)

afterAll(async () => {
  openLookGate();
  await temporal?.stop();
});

beforeEach(() => {
  Object.assign(world, { broken: true, repairs: 0, lookFailures: 0, notifications: [], configError: false });
  lookGate = undefined;
});

describe('mail-runbooks CLI', () => {
  it('start, list --awaiting, show, approve through the Update, watch to the end, the report', async () => {
    const id = await startRun();
    expect(id).toBe('mrb.queueBacklog.lab'); // one run per (runbook, target): src/temporal/start-run.ts

    // list --awaiting finds it through the search attributes (visibility is eventually consistent).
    const rows = await pollUntil(20_000, 'listed as awaiting', async () => {
      const listed = await cliJson<RunRow[]>(
        'list',
        '--awaiting',
        '--target',
        'lab',
        '--runbook',
        'engineFixture',
      );
      return listed.some((r) => r.workflowId === id) ? listed : undefined;
    });
    expect(rows.find((r) => r.workflowId === id)).toMatchObject({
      runbook: 'engineFixture',
      workflowType: 'queueBacklog',
      status: 'RUNNING',
      target: 'lab',
      awaitingApproval: true,
    });
    expect(await cliJson<RunRow[]>('list', '--awaiting', '--target', 'elsewhere')).toEqual([]);
    const listText = await cli('list', '--awaiting');
    expect(listText.code).toBe(0);
    expect(listText.stdout).toMatch(
      new RegExp(`${id.replace(/\./g, '\\.')}\\s+engineFixture\\s+lab\\s+running.*AWAITING`),
    );

    // show: JSON for scripts, text with the steps, the evidence and how to decide.
    const view = await awaitingApproval(id);
    expect(view).toMatchObject({ workflowId: id, execution: 'RUNNING', taskQueue });
    expect(view.status?.pending).toMatchObject({ step: 'repair', reason: 'the probe says broken' });
    expect(view.status?.steps.map((s) => s.name)).toEqual(['load-target-plan', 'look']);
    const shown = await cli('show', id);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('### Awaiting approval: `repair`');
    expect(shown.stdout).toContain(
      `npx mail-runbooks approve ${id} --request '${view.status?.pending?.requestId ?? ''}'`,
    );
    expect(shown.stdout).toMatch(
      /### Evidence\n- `load-target-plan`: .*\n- `look`: \{"truncated":true,.*… \(\d+ chars; --json shows all\)/,
    );

    // watch follows it while someone decides.
    const watching = cli('watch', id, '--json', '--interval', '0.2', '--timeout', '60');

    // The Update validates the decision: a step that is not pending is refused, with the reason.
    expectOneLineError(
      await cli('approve', id, '--step', 'restart-everything', '--by', 'eve'),
      /^mail-runbooks: refused by run .*: refused \(step\): step restart-everything is not the one pending \(repair\)$/m,
    );
    const approved = await cli('approve', id, '--by', 'alice', '--comment', 'go ahead');
    expect(approved.stderr).toBe(`${UNSIGNED_NOTE}\n`);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(
      new RegExp(
        `^approved repair of ${id.replace(/\./g, '\\.')}: decided by alice at .* \\(go ahead\\)\\n$`,
      ),
    );

    const watched = await watching;
    expect(watched.code, watched.stderr).toBe(0);
    const events = watched.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as WatchLine);
    expect(events.map((e) => e.event)).toEqual(
      expect.arrayContaining(['step-ended', 'pending', 'decision', 'ended']),
    );
    expect(events.find((e) => e.event === 'decision')?.decision).toMatchObject({
      by: 'alice',
      via: 'update',
    });
    expect(events.filter((e) => e.event === 'step-ended').map((e) => e.step?.name)).toEqual([
      'load-target-plan',
      'look',
      'repair',
      'look-again',
    ]);
    expect(events.at(-1)).toMatchObject({ event: 'ended', execution: 'COMPLETED', verdict: 'fixed' });
    expect(world.repairs).toBe(1);

    // The final report.
    const final = await cliJson<RunView>('show', id);
    expect(final.execution).toBe('COMPLETED');
    expect(final.report).toMatchObject({ verdict: 'fixed', cause: 'repaired', target: 'lab' });
    expect(final.report?.decisions).toMatchObject([
      { step: 'repair', approved: true, by: 'alice', comment: 'go ahead', via: 'update' },
    ]);
    const finalText = (await cli('show', id)).stdout;
    expect(finalText).toContain('**Verdict: fixed** — repaired');
    expect(finalText).toContain('`repair` approved by alice (update, unsigned): go ahead');
    expect(finalText).toMatch(/### Report\nverdict: fixed: repaired\ntarget: lab, 4 steps, 1 decisions/);

    // Nothing is pending any more: refused before any Update is sent.
    expectOneLineError(
      await cli('approve', id, '--by', 'bob'),
      /run .* has ended \(completed, verdict fixed\): nothing awaits approval/,
    );
    // Finished runs show up with --all, not by default.
    const all = await pollUntil(20_000, 'listed as completed', async () => {
      const listed = await cliJson<RunRow[]>('list', '--all', '--runbook', 'engineFixture');
      return listed.find((r) => r.workflowId === id && r.status === 'COMPLETED');
    });
    expect(all).toMatchObject({ verdict: 'fixed', awaitingApproval: false });
    expect((await cliJson<RunRow[]>('list')).some((r) => r.workflowId === id)).toBe(false);
  });

  it('reject: watch (text) shows the decision and the needs-human verdict; nothing is changed', async () => {
    const id = await startRun();
    await awaitingApproval(id);
    const rejected = await cli(
      'reject',
      id,
      '--step',
      'repair',
      '--by',
      'bob',
      '--comment',
      'not now',
      '--json',
    );
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(JSON.parse(rejected.stdout)).toMatchObject({
      workflowId: id,
      step: 'repair',
      approved: false,
      by: 'bob',
    });

    const watched = await cli('watch', id, '--interval', '0.2', '--timeout', '30');
    expect(watched.code, watched.stderr).toBe(0);
    const lines = watched.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`watching ${id} (engineFixture on lab); Ctrl-C stops watching, not the run`);
    expect(lines).toContain('[REJECTED] repair rejected by bob (update): not now');
    expect(lines.at(-1)).toBe(
      '=> needs-human: repair was not approved (bob: not now); nothing was changed (2 steps, 1 decision)',
    );
    expect(world.repairs).toBe(0);
  });

  it('cancel: the run stops while it awaits approval, nothing is changed, and who cancelled is recorded', async () => {
    const id = await startRun();
    await awaitingApproval(id);
    const cancelled = await cli('cancel', id, '--by', 'carol', '--reason', 'maintenance window', '--json');
    expect(cancelled.code, cancelled.stderr).toBe(0);
    const { runId } = JSON.parse(cancelled.stdout) as { runId: string };
    expect(JSON.parse(cancelled.stdout)).toMatchObject({
      workflowId: id,
      by: 'carol',
      reason: 'maintenance window',
    });
    const ended = await pollUntil(20_000, 'run ended', async () => {
      const view = await cliJson<RunView>('show', id);
      return view.execution === 'RUNNING' ? undefined : view;
    });
    expect(ended.execution).toBe('CANCELLED');
    expect(world.repairs).toBe(0);
    // The run's history says who asked and why.
    const history = await temporal.env.client.workflow.getHandle(id, runId).fetchHistory();
    const request = history.events?.find((e) => e.workflowExecutionCancelRequestedEventAttributes);
    expect(request?.workflowExecutionCancelRequestedEventAttributes).toMatchObject({
      identity: 'carol through the mail-runbooks CLI',
      cause: 'cancelled by carol: maintenance window',
    });
    // An approval for it now is refused; cancelling again says it has ended; --by is required.
    expectOneLineError(
      await cli('approve', id, '--by', 'alice'),
      /^mail-runbooks: run .* has ended \(cancelled\)/,
    );
    expectOneLineError(
      await cli('cancel', id, '--by', 'carol'),
      /^mail-runbooks: run .* has ended \(cancelled\): nothing to cancel$/,
    );
    expect((await cli('cancel', id)).stderr).toMatch(/required option '--by <name>' not specified/);
    expectOneLineError(
      await cli('cancel', 'no-such-run', '--by', 'carol'),
      /^mail-runbooks: no run with id no-such-run /,
    );
  });

  it('errors: unknown run, nothing pending, a watch that times out; one line each, exit code 1', async () => {
    for (const args of [
      ['show', 'no-such-run'],
      ['watch', 'no-such-run'],
      ['approve', 'no-such-run', '--by', 'alice'],
      ['reject', 'no-such-run', '--by', 'alice'],
    ])
      expectOneLineError(await cli(...args), /^mail-runbooks: no run with id no-such-run /);
    const json = await cli('show', 'no-such-run', '--json');
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stderr) as { error: string }).error).toMatch(/^no run with id no-such-run /);

    // A run busy in a check (nothing awaits approval yet).
    lookGate = new Promise((r) => (openLookGate = r));
    const id = await startRun();
    await pollUntil(20_000, 'look running', async () => {
      const view = await cliJson<RunView>('show', id);
      return view.status?.currentStep === 'look' ? view : undefined;
    });
    expectOneLineError(
      await cli('approve', id, '--by', 'alice'),
      /^mail-runbooks: run .* has no step awaiting approval \(current step: look\)$/,
    );
    const timedOut = await cli('watch', id, '--interval', '0.2', '--timeout', '1');
    expectOneLineError(
      timedOut,
      /^mail-runbooks: run .* still running after 1s; stopped watching \(the run goes on\)$/,
      false,
    );
    expect(timedOut.stdout.trimEnd().split('\n').slice(1)).toEqual([
      expect.stringMatching(/^\[ok\] load-target-plan: target lab \(\d+\.\ds\)$/),
      '[start] look (check) …',
    ]);
    world.broken = false;
    openLookGate();
    await pollUntil(20_000, 'healthy', async () =>
      (await cliJson<RunView>('show', id)).report ? true : undefined,
    );
    expect((await cliJson<RunView>('show', id)).report?.verdict).toBe('healthy');

    expectOneLineError(
      await cli('start', 'noSuchRunbook'),
      /unknown runbook "noSuchRunbook"; one of: statusCheck,/,
    );
    expectOneLineError(await cli('list', '--target', "lab' OR true"), /target "lab' OR true" has characters/);
  });

  it('schedules ensure (idempotent), list, and trigger of an unknown schedule through the CLI', async () => {
    // The shipped example (not .lab/target.yaml: on a fresh clone the lab may not be up yet).
    const config = `${root}docs/config.example.yaml`;
    const first = await cliJson<Array<{ id: string; outcome: string }>>(
      'schedules',
      'ensure',
      '--config',
      config,
    );
    expect(first.length).toBeGreaterThan(0);
    expect(first.every((r) => r.outcome === 'created')).toBe(true);
    const second = await cliJson<Array<{ id: string; outcome: string }>>(
      'schedules',
      'ensure',
      '--config',
      config,
    );
    expect(second.map((r) => r.outcome)).toEqual(first.map(() => 'unchanged'));
    const listed = await pollUntil(20_000, 'schedules listed', async () => {
      const rows = await cliJson<Array<{ id: string; runbook?: string }>>('schedules', 'list');
      return rows.length === first.length ? rows : undefined;
    });
    expect(listed.map((r) => r.id).sort()).toEqual(first.map((r) => r.id).sort());
    // Each shows the runbook it starts (read from its starter workflow's input).
    expect(listed.every((r) => r.runbook !== undefined && r.runbook !== 'scheduledStart')).toBe(true);
    expectOneLineError(
      await cli('schedules', 'trigger', 'mrb.nope.lab'),
      /^mail-runbooks: no schedule with id mrb\.nope\.lab$/,
    );
    // Delete them again (their runbooks are not on this worker): what uninstalling does.
    const deleted = await cliJson<{ deleted: string[] }>('schedules', 'delete', '--all');
    expect(deleted.deleted.sort()).toEqual(first.map((r) => r.id).sort());
    expectOneLineError(
      await cli('schedules', 'delete', 'mrb.nope.lab'),
      /^mail-runbooks: no schedule with id mrb\.nope\.lab$/,
    );
  });

  it('the bin: lists against the server, and says in one line when the server is unreachable', async () => {
    const exec = promisify(execFile);
    const listed = await exec(process.execPath, [bin, 'list', '--all', '--json', '--limit', '2'], {
      cwd: root,
      env: { ...process.env },
    });
    expect((JSON.parse(listed.stdout) as RunRow[]).length).toBe(2);

    const port = await freePort(); // nothing listens there any more
    const started = Date.now();
    const failed = await exec(process.execPath, [bin, 'list'], {
      cwd: root,
      env: { ...process.env, TEMPORAL_ADDRESS: `127.0.0.1:${port}` },
    }).then(
      () => undefined,
      (err: { code?: number; stdout: string; stderr: string }) => err,
    );
    const elapsed = Date.now() - started;
    expect(failed).toBeDefined();
    expectOneLineError(
      { code: failed!.code ?? -1, stdout: failed!.stdout, stderr: failed!.stderr },
      new RegExp(
        `^mail-runbooks: cannot reach the Temporal server at 127\\.0\\.0\\.1:${port} within 5s \\(.*\\); check TEMPORAL_ADDRESS`,
      ),
    );
    expect(elapsed).toBeLessThan(15_000);
  });
});
