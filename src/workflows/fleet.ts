/**
 * A fleet run: `runbook` on every target of the input, as child runs under the same workflow id each target's
 * run always has (so a fleet child and an alert's run never act on one target at once), at most
 * `maxConcurrent` at a time. After `maxFailures` targets end badly it starts no new child and lets the
 * running ones finish. Progress: the `fleetStatus` query, and one line in the Web UI's current details.
 * Children are abandoned, not cancelled, if the fleet itself is cancelled or terminated: each is a runbook
 * run of its own, with its own approvals, and stops only when a person stops it.
 */
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  ParentClosePolicy,
  patched,
  setCurrentDetails,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  fleetProgress,
  fleetStatusQuery,
  GOOD_VERDICTS,
  type FleetInput,
  type FleetReport,
  type FleetStatus,
  type FleetTarget,
  type FleetTargetState,
} from '../shared/fleet.js';
import { runMetadata } from '../shared/run-metadata.js';
import { isRunbookName } from '../shared/runbooks.js';
import { describeTrigger, runWorkflowId } from '../shared/start.js';
import type { RunbookInput, RunbookReport } from '../shared/types.js';

const MAX_TARGETS = 10_000;
/** Children's memo and Web UI summary name the fleet's trigger (a schedule's fleet says so in each child). */
const CHILD_NAMES_TRIGGER = 'fleet-child-names-its-trigger';

function validate(input: FleetInput): void {
  const bad = (message: string): never => {
    throw ApplicationFailure.nonRetryable(`fleet: ${message}`, 'InvalidFleetInput');
  };
  if (!isRunbookName(input.runbook)) bad(`unknown runbook "${input.runbook}"`);
  if (!Array.isArray(input.targets) || input.targets.length === 0) bad('no targets');
  if (input.targets.length > MAX_TARGETS) bad(`${input.targets.length} targets; at most ${MAX_TARGETS}`);
  if (new Set(input.targets).size !== input.targets.length) bad('a target is listed twice');
  if (!Number.isInteger(input.maxConcurrent) || input.maxConcurrent < 1)
    bad('maxConcurrent must be 1 or more');
  if (!Number.isInteger(input.maxFailures) || input.maxFailures < 1) bad('maxFailures must be 1 or more');
}

export async function fleet(input: FleetInput): Promise<FleetReport> {
  validate(input);
  const targets: FleetTarget[] = input.targets.map((target) => ({
    target,
    state: 'waiting',
    workflowId: runWorkflowId(input.runbook, target),
  }));
  let stoppedBecause: string | undefined;
  const status = (): FleetStatus => {
    const counts: Record<FleetTargetState, number> = {
      waiting: 0,
      running: 0,
      done: 0,
      'already-running': 0,
      'not-started': 0,
    };
    for (const t of targets) counts[t.state]++;
    return {
      runbook: input.runbook,
      total: targets.length,
      counts,
      failures: targets.filter((t) => t.failed).length,
      ...(stoppedBecause ? { stoppedBecause } : {}),
      targets,
    };
  };
  setHandler(fleetStatusQuery, status);
  const progress = (): void => setCurrentDetails(fleetProgress(status()));
  progress();

  const fleetId = workflowInfo().workflowId;
  async function runOne(t: FleetTarget): Promise<void> {
    const args: RunbookInput = {
      target: t.target,
      trigger: input.trigger,
      ...(input.params ? { params: input.params } : {}),
    };
    try {
      // A child says who started the fleet (a schedule, a person) as well as the fleet, in its memo (read
      // back when someone tries to start that run again) and in the Web UI. Fleets started before, as before.
      const startedBy = patched(CHILD_NAMES_TRIGGER)
        ? `${describeTrigger(input.trigger)} via fleet ${fleetId}`
        : undefined;
      const child = await startChild(input.runbook, {
        workflowId: t.workflowId,
        args: [args],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        ...(startedBy
          ? {
              memo: { trigger: input.trigger, startedBy },
              ...runMetadata({
                runbook: input.runbook,
                target: t.target,
                startedBy,
                trigger: input.trigger,
                ...(input.params ? { params: input.params } : {}),
              }),
            }
          : {
              memo: { trigger: input.trigger, startedBy: `fleet ${fleetId}` },
              staticSummary: `${input.runbook} on ${t.target} (fleet ${fleetId})`,
            }),
      });
      t.state = 'running';
      t.runId = child.firstExecutionRunId;
      progress();
      const report = (await child.result()) as RunbookReport;
      t.verdict = report.verdict;
      t.detail = report.cause;
      t.failed = !GOOD_VERDICTS.includes(report.verdict);
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        // Another run (an alert's, a person's) is on this target: it is left alone, not counted as failed.
        t.state = 'already-running';
        t.detail = `a run of ${input.runbook} is already going on ${t.target}; left alone`;
        progress();
        return;
      }
      t.failed = true;
      t.detail =
        err instanceof ChildWorkflowFailure
          ? `the run ended without a report: ${err.cause?.message ?? err.message}`
          : `could not run: ${(err as Error).message}`;
    }
    t.state = 'done';
    progress();
  }

  const running = new Set<Promise<void>>();
  for (const t of targets) {
    if (status().failures >= input.maxFailures) {
      stoppedBecause ??= `${input.maxFailures} target(s) failed (maxFailures); no new run started`;
      t.state = 'not-started';
      t.detail = stoppedBecause;
      continue;
    }
    const one = runOne(t).finally(() => running.delete(one));
    running.add(one);
    if (running.size >= input.maxConcurrent) await Promise.race(running);
  }
  await Promise.all(running);
  progress();
  const final = status();
  const verdict = stoppedBecause ? 'stopped' : final.failures > 0 ? 'failures' : 'ok';
  return { ...final, verdict };
}
