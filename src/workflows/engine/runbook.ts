/**
 * The step engine. A runbook is a function of a `Runbook` context; it calls `check` for read-only steps,
 * `act` for state-changing ones (behind the approval gate), and returns a verdict with its cause.
 * The engine records every step with bounded evidence, answers the `status` query, keeps the Web UI's
 * current details and the search attributes up to date, and returns the final report.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  log,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { AWAITING_APPROVAL, CURRENT_STEP, RUNBOOK, TARGET, VERDICT } from '../../shared/search-attributes.js';
import { boundEvidence } from '../../shared/evidence.js';
import {
  alertResolvedSignal,
  approveSignal,
  decideUpdate,
  rejectSignal,
  statusQuery,
  type DecisionInput,
} from '../../shared/messages.js';
import { checks, notifications } from './policies.js';
import { renderStatusMarkdown } from '../../shared/report.js';
import type {
  ApprovalDecision,
  DecisionRecord,
  RunbookInput,
  RunbookReport,
  RunbookStatus,
  StepKind,
  StepOutcome,
  StepRecord,
  TargetPlan,
  Verdict,
} from '../../shared/types.js';
import { ERROR_TYPE } from '../../shared/errors.js';

export interface Conclusion {
  verdict: Verdict;
  cause: string;
}

/** Thrown by `rb.conclude` to end a run early with a verdict; not an error. */
class RunbookStop extends Error {
  constructor(readonly conclusion: Conclusion) {
    super(conclusion.cause);
  }
}

export interface ActOptions {
  /** Why this action is proposed; shown to the approver. */
  reason: string;
  /** What the approver should look at. */
  evidence?: unknown;
  /**
   * Re-check before acting after the alert resolved: true means "still broken, go on". When it returns
   * false the action is skipped and the run ends `healthy`.
   */
  recheck?: () => Promise<boolean>;
}

const now = (): string => new Date().toISOString();

export class Runbook {
  readonly status: RunbookStatus;
  private decision: DecisionRecord | undefined;
  private loadedPlan: TargetPlan | undefined;

  constructor(
    readonly name: string,
    readonly input: RunbookInput,
  ) {
    this.status = { runbook: name, target: input.target, steps: [], decisions: [], alertResolved: false };
  }

  /** The target's settings; loaded by the first activity of every run. */
  get plan(): TargetPlan {
    if (!this.loadedPlan) throw new Error('target plan not loaded yet');
    return this.loadedPlan;
  }

  set plan(plan: TargetPlan) {
    this.loadedPlan = plan;
    this.status.target = plan.target;
  }

  get target(): string {
    return this.plan.target;
  }

  /** A read-only step: runs the activity call and records its outcome. A thrown error ends the run `failed`. */
  async check<E>(
    name: string,
    call: () => Promise<StepOutcome<E>>,
    kind: StepKind = 'check',
  ): Promise<StepOutcome<E>> {
    const record = this.begin(name, kind);
    try {
      const outcome = await call();
      this.end(record, outcome.ok ? 'ok' : 'problem', outcome.summary, outcome.evidence);
      return outcome;
    } catch (err) {
      this.end(record, 'error', `could not run: ${failureMessage(err)}`);
      throw new RunbookStop({
        verdict: 'failed',
        cause: `step ${name} could not run: ${failureMessage(err)}`,
      });
    }
  }

  /**
   * A state-changing step: waits for approval (or the target's unattended policy), then runs. The call gets
   * a once-key unique to this run and step: actions use it so that a retried activity (worker killed
   * mid-action) does not apply the change twice.
   */
  async act<E>(
    name: string,
    options: ActOptions,
    call: (onceKey: string) => Promise<StepOutcome<E>>,
  ): Promise<StepOutcome<E>> {
    const decision = await this.awaitDecision(name, options);
    if (!decision.approved) {
      this.conclude(
        'needs-human',
        `${name} was not approved (${decision.by}${decision.comment ? `: ${decision.comment}` : ''}); nothing was changed`,
      );
    }
    if (this.status.alertResolved && options.recheck && !(await options.recheck())) {
      this.recordSkipped(name, 'alert resolved and the re-check found nothing to fix');
      this.conclude(
        'healthy',
        `the alert resolved before ${name}; the re-check found the target healthy, so nothing was changed`,
      );
    }
    const { workflowId, runId } = workflowInfo();
    return this.check(name, () => call(`${workflowId}.${runId}.${name}`), 'action');
  }

  /** Ends the run now with this verdict. */
  conclude(verdict: Verdict, cause: string): never {
    throw new RunbookStop({ verdict, cause });
  }

  // --- approval -----------------------------------------------------------------------------------------

  private async awaitDecision(step: string, options: ActOptions): Promise<DecisionRecord> {
    if (this.plan.approval.unattended.includes(step)) {
      return this.recordDecision(
        { step, approved: true, by: 'policy', comment: `approval.unattended lists ${step}` },
        'policy',
      );
    }
    const { timeoutSeconds, reminderAfterSeconds } = this.plan.approval;
    const requested = Date.now();
    this.status.pending = {
      step,
      reason: options.reason,
      evidence: boundEvidence(options.evidence),
      requestedAt: new Date(requested).toISOString(),
      deadline: new Date(requested + timeoutSeconds * 1000).toISOString(),
    };
    this.decision = undefined;
    upsertSearchAttributes([{ key: AWAITING_APPROVAL, value: true }]);
    this.publish();
    await this.notify('approval-requested', `${step}: ${options.reason}`);

    const decided = (): boolean => this.decision !== undefined;
    const firstWait = Math.min(reminderAfterSeconds, timeoutSeconds);
    let got = await condition(decided, firstWait * 1000);
    if (!got && timeoutSeconds > firstWait) {
      await this.notify(
        'approval-reminder',
        `${step} still awaits approval (deadline ${this.status.pending.deadline})`,
      );
      got = await condition(decided, (timeoutSeconds - firstWait) * 1000);
    }
    const decision =
      this.decision ??
      this.recordDecision(
        {
          step,
          approved: false,
          by: 'timeout',
          comment: `no decision within ${timeoutSeconds}s; default is to abort`,
        },
        'timeout',
      );
    this.status.pending = undefined;
    upsertSearchAttributes([{ key: AWAITING_APPROVAL, value: false }]);
    this.publish();
    return decision;
  }

  private recordDecision(decision: ApprovalDecision, via: DecisionRecord['via']): DecisionRecord {
    const record: DecisionRecord = { ...decision, at: now(), via };
    this.status.decisions.push(record);
    if (via !== 'timeout' || !this.decision) this.decision = record;
    return record;
  }

  /** Why a decision does not apply now, or undefined when it does. */
  decisionProblem(step: string | undefined): string | undefined {
    const pending = this.status.pending;
    if (!pending) return 'no step is awaiting approval';
    if (this.decision) return `step ${pending.step} is already decided`;
    if (step !== undefined && step !== pending.step)
      return `step ${step} is not pending (pending: ${pending.step})`;
    return undefined;
  }

  installHandlers(): void {
    const onSignal = (approved: boolean) => (input: DecisionInput) => {
      // Signals come from people typing JSON in the UI: malformed input is logged and ignored, never fatal.
      const problem =
        typeof input?.by === 'string' && input.by.trim()
          ? this.decisionProblem(input.step)
          : 'decision needs "by"';
      if (problem || !this.status.pending) {
        log.warn('decision ignored', { problem, by: input.by });
        return;
      }
      this.recordDecision(
        { step: this.status.pending.step, approved, by: input.by, comment: input.comment },
        'signal',
      );
    };
    setHandler(approveSignal, onSignal(true));
    setHandler(rejectSignal, onSignal(false));
    setHandler(decideUpdate, (decision) => this.recordDecision(decision, 'update'), {
      validator: (decision: ApprovalDecision) => {
        if (!decision || typeof decision.by !== 'string' || !decision.by.trim())
          throw new Error('decision needs "by"');
        const problem = this.decisionProblem(decision.step);
        if (problem) throw new Error(problem);
      },
    });
    setHandler(alertResolvedSignal, () => {
      this.status.alertResolved = true;
      this.publish();
    });
    setHandler(statusQuery, () => this.status);
  }

  // --- records ------------------------------------------------------------------------------------------

  private begin(name: string, kind: StepKind): StepRecord {
    const record: StepRecord = { name, kind, verdict: 'ok', summary: 'running', startedAt: now() };
    this.status.currentStep = name;
    this.status.steps.push(record);
    upsertSearchAttributes([{ key: CURRENT_STEP, value: name }]);
    this.publish();
    return record;
  }

  private end(record: StepRecord, verdict: StepRecord['verdict'], summary: string, evidence?: unknown): void {
    record.verdict = verdict;
    record.summary = summary;
    record.evidence = boundEvidence(evidence);
    record.endedAt = now();
    this.publish();
  }

  private recordSkipped(name: string, why: string): void {
    const at = now();
    this.status.steps.push({
      name,
      kind: 'action',
      verdict: 'skipped',
      summary: why,
      startedAt: at,
      endedAt: at,
    });
  }

  publish(): void {
    setCurrentDetails(renderStatusMarkdown(this.status, workflowInfo().workflowId));
  }

  async notify(
    kind: 'approval-requested' | 'approval-reminder' | 'finished',
    summary: string,
  ): Promise<void> {
    const info = workflowInfo();
    try {
      await notifications.notify({
        kind,
        runbook: this.name,
        target: this.target,
        workflowId: info.workflowId,
        runId: info.runId,
        step: this.status.pending?.step,
        summary,
      });
    } catch (err) {
      // A broken channel must never fail the runbook; the activity already logged and retried.
      log.warn('notification failed', { kind, error: failureMessage(err) });
    }
  }
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export type RunbookBody = (rb: Runbook) => Promise<Conclusion>;

/** Turns a runbook body into a workflow function: `export const statusCheck = defineRunbook('statusCheck', ...)`. */
export function defineRunbook(
  name: string,
  body: RunbookBody,
): (input?: RunbookInput) => Promise<RunbookReport> {
  const workflow = async (input: RunbookInput = {}): Promise<RunbookReport> => {
    const startedAt = now();
    if (input === null || typeof input !== 'object') {
      throw ApplicationFailure.nonRetryable(
        'input must be an object such as {} or {"target": "name"}',
        ERROR_TYPE.validation,
      );
    }
    // Handlers first, so the status query and early signals work while the plan loads.
    const rb = new Runbook(name, input);
    rb.installHandlers();
    upsertSearchAttributes([
      { key: RUNBOOK, value: name },
      { key: AWAITING_APPROVAL, value: false },
    ]);
    let conclusion: Conclusion;
    try {
      rb.plan = await rb
        .check('load-target-plan', async () => {
          const plan = await checks.loadTargetPlan(input.target);
          return { ok: true, summary: `target ${plan.target}`, evidence: plan };
        })
        .then((o) => o.evidence);
      upsertSearchAttributes([{ key: TARGET, value: rb.target }]);
      conclusion = await body(rb);
    } catch (err) {
      if (!(err instanceof RunbookStop)) throw err;
      conclusion = err.conclusion;
    }
    rb.status.verdict = conclusion.verdict;
    rb.status.cause = conclusion.cause;
    rb.status.currentStep = undefined;
    upsertSearchAttributes([
      { key: VERDICT, value: conclusion.verdict },
      { key: CURRENT_STEP, value: 'done' },
    ]);
    rb.publish();
    await rb.notify('finished', `${conclusion.verdict}: ${conclusion.cause}`);
    const markdown = renderStatusMarkdown(rb.status, workflowInfo().workflowId);
    return {
      ...rb.status,
      target: rb.status.target ?? input.target ?? '(unknown)',
      verdict: conclusion.verdict,
      cause: conclusion.cause,
      startedAt,
      finishedAt: now(),
      markdown,
    };
  };
  Object.defineProperty(workflow, 'name', { value: name });
  return workflow;
}
