/**
 * Turns a runbook body into a workflow function: `export const statusCheck = defineRunbook('statusCheck',
 * async (run) => ...)`. Wires the run record, the approval gate and the step methods the body sees, loads
 * the target's plan first and returns the final report.
 */
import { ApplicationFailure, patched, workflowInfo } from '@temporalio/workflow';
import { renderBrief } from '../../shared/brief.js';
import { ERROR_TYPE } from '../../shared/errors.js';
import { DEFAULT_LIMITS, describeHolder, type ActionLimits } from '../../shared/guard.js';
import type { RunbookName } from '../../shared/runbooks.js';
import type { RunbookInput, RunbookReport, StepKind, StepOutcome, TargetPlan } from '../../shared/types.js';
import { RunbookStop, failureMessage, type Conclusion } from './conclusion.js';
import type { ActOptions, Activities, RunContext, RunbookBody, StepCall } from './context.js';
import { ApprovalGate } from './gate.js';
import { TargetLeases, type HeldLease } from './lease.js';
import { notify, type RunIdentity } from './notify.js';
import { ACTIVITIES_FOR, waitActivities } from './policies.js';
import { now, RunRecord } from './record.js';

/**
 * Patch id: a state-changing step holds its target's lease (src/workflows/guard.ts) while it acts, and an
 * unattended one asks a person when a cooldown or a budget is spent.
 */
const TARGET_LEASE_AND_BUDGET = 'target-lease-and-budget';
/** Approval briefs warn when a change lives only inside the container (docs/security.md). */
const WARN_CHANGES_LOST_ON_RECREATE = 'warn-changes-lost-on-recreate';
/** A provider relay (no SSH in the config): runbooks skip the relay's SSH steps and hand over. */
const PROVIDER_RELAY_SMTP_ONLY = 'provider-relay-smtp-only';

class Run implements RunContext {
  readonly params: Readonly<Record<string, unknown>>;
  private plan: TargetPlan | undefined;
  /** Wait and verify steps' proxy, with timeouts from the target's limits once the plan is loaded. */
  private waits: Activities = ACTIVITIES_FOR.wait;

  constructor(
    private readonly record: RunRecord,
    private readonly gate: ApprovalGate,
    private readonly leases: TargetLeases,
    input: RunbookInput,
  ) {
    this.params = input.params ?? {};
  }

  get target(): string {
    if (!this.plan) throw new Error('target plan not loaded yet');
    return this.plan.target;
  }

  async load(targetName: string | undefined): Promise<void> {
    const loaded = await this.step('load-target-plan', 'check', async (activities) => {
      const plan = await activities.loadTargetPlan(targetName);
      return { ok: true, summary: `target ${plan.target}`, evidence: plan };
    });
    this.plan = loaded.evidence;
    this.waits = waitActivities(this.plan.waits);
    this.record.setTarget(this.plan.target);
  }

  check<E>(name: string, call: StepCall<E>): Promise<StepOutcome<E>> {
    return this.step(name, 'check', call);
  }

  wait<E>(name: string, call: StepCall<E>): Promise<StepOutcome<E>> {
    return this.step(name, 'wait', call);
  }

  verify<E>(name: string, call: StepCall<E>): Promise<StepOutcome<E>> {
    return this.step(name, 'verify', call);
  }

  async act<E>(
    name: string,
    options: ActOptions,
    call: (activities: Activities, onceKey: string) => Promise<StepOutcome<E>>,
  ): Promise<StepOutcome<E>> {
    if (!this.plan) throw new Error('target plan not loaded yet');
    const plan = this.plan;
    // Runs recorded before the guard existed act without a lease (the fixtures replay them).
    const guarded = patched(TARGET_LEASE_AND_BUDGET);
    const limits = plan.limits ?? DEFAULT_LIMITS;
    // Once this run has changed something, a resolved alert no longer stops it: it finishes and verifies.
    const recheckable = !this.record.changedSomething();
    let rechecked = false;
    const stillBroken = async (): Promise<boolean> => {
      rechecked = true;
      return options.recheck(ACTIVITIES_FOR.check);
    };
    const skip = (): never => {
      this.record.skipped(name, 'alert resolved and the re-check found nothing to fix');
      this.conclude(
        'healthy',
        `the alert resolved before ${name}; the re-check found the target healthy, so nothing was changed`,
      );
    };
    let lease: HeldLease | undefined;
    try {
      // Resolved before anyone was asked: nobody needs to be bothered if it healed.
      if (recheckable && this.gate.alertResolved && !(await stillBroken())) skip();
      // An unattended step asks the guard first: with the lease comes whether a cooldown or budget is spent,
      // and then a person decides after all.
      let overLimit: string | undefined;
      if (guarded && plan.approval.unattended.includes(name)) {
        const held = await this.lease(name, limits, true, recheckable ? stillBroken : undefined);
        if (held.overLimit) {
          overLimit = held.overLimit;
          await this.leases.release(held.requestId, false);
        } else lease = held;
      }
      const why = overLimit ? `${overLimit}, so a person decides. ` : '';
      // Runs recorded before the warning existed keep the brief they had.
      const lostOnRecreate =
        options.lostOnRecreate !== undefined && patched(WARN_CHANGES_LOST_ON_RECREATE)
          ? options.lostOnRecreate
          : undefined;
      const outcome = await this.gate.decide(
        {
          step: name,
          reason: `${why}${options.reason}`,
          brief: `${why}${renderBrief({
            touches: options.touches,
            reason: options.reason,
            failing: this.record.failingSummaries(),
            queue: this.record.latestQueueSummary(),
            command: options.command,
            ...(lostOnRecreate !== undefined && { lostOnRecreate }),
          })}`,
          evidence: options.evidence,
          ...(recheckable && { recheck: stillBroken }),
          ...(overLimit && { overLimit }),
        },
        plan.approval,
      );
      if (outcome.kind === 'withdrawn') skip();
      const { decision } = outcome;
      if (outcome.kind === 'rejected') {
        this.conclude(
          'needs-human',
          `${name} was not approved (${decision.by}${decision.comment ? `: ${decision.comment}` : ''}); nothing was changed`,
        );
      }
      // Resolved while the decision was made, and not yet re-checked since.
      if (recheckable && this.gate.alertResolved && !rechecked && !(await stillBroken())) skip();
      if (guarded && !lease) {
        lease = await this.lease(name, limits, false, recheckable ? stillBroken : undefined);
      }
      const { workflowId, runId } = workflowInfo();
      const act = () =>
        this.step(name, 'action', (activities) => call(activities, `${workflowId}.${runId}.${name}`));
      if (!lease) return await act();
      const held = lease;
      lease = undefined; // holding() gives it back, counted as an action
      return await this.leases.holding(held, act);
    } finally {
      if (lease) await this.leases.release(lease.requestId, false);
    }
  }

  /**
   * The target's lease for `step`, or the run ends needs-human naming the holder. After waiting for another
   * run, the target is re-checked when a re-check may still stop this step: the other run may have fixed it.
   */
  private async lease(
    step: string,
    limits: ActionLimits,
    checkLimits: boolean,
    stillBroken: (() => Promise<boolean>) | undefined,
  ): Promise<HeldLease> {
    const target = this.target;
    const acquired = await this.leases.acquire(target, step, this.record.status.runbook, limits, checkLimits);
    if ('timedOut' in acquired) {
      this.conclude(
        'needs-human',
        `${step} waited ${limits.leaseWaitSeconds} s for ${target}, and ${acquired.holder ? describeHolder(acquired.holder) : 'another run'} still acts on it; nothing was changed`,
      );
    }
    if (acquired.waited && stillBroken && !(await stillBroken())) {
      await this.leases.release(acquired.requestId, false);
      this.record.skipped(
        step,
        'another run acted on the target meanwhile and the re-check found nothing to fix',
      );
      this.conclude(
        'healthy',
        `another run acted on ${target} while ${step} waited; the re-check found it healthy, so nothing was changed`,
      );
    }
    return acquired;
  }

  skip(name: string, kind: StepKind, why: string): void {
    this.record.skipped(name, why, kind);
  }

  providerRelay(): boolean {
    if (!this.plan) throw new Error('target plan not loaded yet');
    // Plans of runs recorded before provider relays existed have no relayAccess: they took the SSH path.
    return this.plan.relayAccess === 'smtp-only' && patched(PROVIDER_RELAY_SMTP_ONLY);
  }

  conclude(verdict: Conclusion['verdict'], cause: string): never {
    throw new RunbookStop({ verdict, cause });
  }

  lastSummary(): string {
    return this.record.lastSummary();
  }

  /** Runs one step through its kind's policy and records its outcome; a thrown error ends the run `failed`. */
  private async step<E>(name: string, kind: StepKind, call: StepCall<E>): Promise<StepOutcome<E>> {
    const record = this.record.begin(name, kind);
    try {
      const outcome = await call(kind === 'wait' || kind === 'verify' ? this.waits : ACTIVITIES_FOR[kind]);
      this.record.end(record, outcome.ok ? 'ok' : 'problem', outcome.summary, outcome.evidence);
      return outcome;
    } catch (err) {
      this.record.end(record, 'error', `could not run: ${failureMessage(err)}`);
      this.conclude('failed', `step ${name} could not run: ${failureMessage(err)}`);
    }
  }
}

/**
 * The workflow for one registered runbook (src/shared/runbooks.ts holds the names and descriptions). Test
 * fixtures pass `{ unregistered: name }` for workflows that exist only in tests.
 */
export function defineRunbook(
  registered: RunbookName | { unregistered: string },
  body: RunbookBody,
): (input?: RunbookInput) => Promise<RunbookReport> {
  const name = typeof registered === 'string' ? registered : registered.unregistered;
  const workflow = async (input: RunbookInput = {}): Promise<RunbookReport> => {
    const startedAt = now();
    if (input === null || typeof input !== 'object') {
      throw ApplicationFailure.nonRetryable(
        'input must be an object such as {} or {"target": "name"}',
        ERROR_TYPE.validation,
      );
    }
    const record = new RunRecord(name, input.target);
    const identity: RunIdentity = { runbook: name, target: () => record.status.target ?? '(unknown)' };
    const gate = new ApprovalGate(record, identity, input, (fields, proof) =>
      ACTIVITIES_FOR.check.verifyDecisionProof(identity.target(), fields, proof),
    );
    gate.installHandlers();
    const leases = new TargetLeases(record);
    leases.installHandlers();
    const run = new Run(record, gate, leases, input);
    let conclusion: Conclusion;
    try {
      await run.load(input.target);
      conclusion = await body(run);
    } catch (err) {
      if (!(err instanceof RunbookStop)) throw err;
      conclusion = err.conclusion;
    }
    record.finish(conclusion);
    await notify(identity, 'finished', `${conclusion.verdict}: ${conclusion.cause}`);
    return {
      ...record.status,
      target: record.status.target ?? input.target ?? '(unknown)',
      verdict: conclusion.verdict,
      cause: conclusion.cause,
      startedAt,
      finishedAt: now(),
      markdown: record.markdown(),
    };
  };
  Object.defineProperty(workflow, 'name', { value: name });
  return workflow;
}
