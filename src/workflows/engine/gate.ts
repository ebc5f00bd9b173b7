/**
 * The approval gate: a state-changing step waits here until a person decides (Signal `approve`/`reject`, or
 * the `decide` Update whose validator refuses decisions that do not apply), the target's policy lets it
 * run unattended, or the deadline passes (abort). A reminder goes out once, halfway.
 */
import { condition, log, setHandler } from '@temporalio/workflow';
import { boundEvidence } from '../../shared/evidence.js';
import {
  alertResolvedSignal,
  approveSignal,
  decideUpdate,
  rejectSignal,
  statusQuery,
  type DecisionInput,
} from '../../shared/messages.js';
import type { ApprovalDecision, DecisionRecord, TargetPlan } from '../../shared/types.js';
import { notify, type RunIdentity } from './notify.js';
import { now, type RunRecord } from './record.js';

export interface ApprovalRequest {
  step: string;
  /** Why this action is proposed; shown to the approver. */
  reason: string;
  /** What the approver should look at. */
  evidence?: unknown;
}

export class ApprovalGate {
  private decision: DecisionRecord | undefined;

  constructor(
    private readonly record: RunRecord,
    private readonly run: RunIdentity,
  ) {}

  /** Handlers first, so the status query and early signals work while the plan loads. */
  installHandlers(): void {
    const onSignal = (approved: boolean) => (input: DecisionInput) => {
      // Signals come from people typing JSON in the UI: malformed input is logged and ignored, never fatal.
      const pending = this.record.status.pending;
      const problem =
        typeof input?.by === 'string' && input.by.trim()
          ? this.decisionProblem(input.step)
          : 'decision needs "by"';
      if (problem || !pending) {
        log.warn('decision ignored', { problem, by: input?.by });
        return;
      }
      this.recordDecision({ step: pending.step, approved, by: input.by, comment: input.comment }, 'signal');
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
    setHandler(alertResolvedSignal, () => this.record.alertResolved());
    setHandler(statusQuery, () => this.record.status);
  }

  /** Waits for the decision on one step (or applies the policy) and returns it, recorded. */
  async decide(request: ApprovalRequest, approval: TargetPlan['approval']): Promise<DecisionRecord> {
    const { step } = request;
    if (approval.unattended.includes(step)) {
      return this.recordDecision(
        { step, approved: true, by: 'policy', comment: `approval.unattended lists ${step}` },
        'policy',
      );
    }
    const { timeoutSeconds, reminderAfterSeconds } = approval;
    const requested = Date.now();
    const deadline = new Date(requested + timeoutSeconds * 1000).toISOString();
    this.decision = undefined;
    this.record.awaiting({
      step,
      reason: request.reason,
      evidence: boundEvidence(request.evidence),
      requestedAt: new Date(requested).toISOString(),
      deadline,
    });
    await notify(this.run, 'approval-requested', `${step}: ${request.reason}`, step);

    const decided = (): boolean => this.decision !== undefined;
    const firstWait = Math.min(reminderAfterSeconds, timeoutSeconds);
    let got = await condition(decided, firstWait * 1000);
    if (!got && timeoutSeconds > firstWait) {
      await notify(
        this.run,
        'approval-reminder',
        `${step} still awaits approval (deadline ${deadline})`,
        step,
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
    this.record.awaiting(undefined);
    return decision;
  }

  private recordDecision(decision: ApprovalDecision, via: DecisionRecord['via']): DecisionRecord {
    const record: DecisionRecord = { ...decision, at: now(), via };
    this.record.decided(record);
    if (via !== 'timeout' || !this.decision) this.decision = record;
    return record;
  }

  /** Why a decision does not apply now, or undefined when it does. */
  private decisionProblem(step: string | undefined): string | undefined {
    const pending = this.record.status.pending;
    if (!pending) return 'no step is awaiting approval';
    if (this.decision) return `step ${pending.step} is already decided`;
    if (step !== undefined && step !== pending.step)
      return `step ${step} is not pending (pending: ${pending.step})`;
    return undefined;
  }
}
