/**
 * The approval gate. A state-changing step asks once, with a request id unique in the run; people answer
 * with the Update `decide` (its validator refuses what does not apply, with the reason; a signed decision
 * is verified on the worker before it counts) or the Signals `approve`/`reject` (refused ones are recorded,
 * never fatal). The step's policy says who may decide and how many must agree. Reminder, escalation and the
 * deadline come in turn (0 switches a stage off); at the deadline the step aborts unless the policy lets it
 * proceed. When the alert that started the run resolves, the gate re-checks at once and withdraws the
 * request if the target is healthy.
 */
import { ApplicationFailure, condition, log, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  stepPolicy,
  type ApprovalPlan,
  type DecisionAuthentication,
  type DecisionInput,
  type DecisionProof,
  type DecisionRecord,
  type ProofCheck,
  type SignedDecisionFields,
} from '../../shared/approval.js';
import { ERROR_TYPE } from '../../shared/errors.js';
import { boundEvidence } from '../../shared/evidence.js';
import {
  alertResolvedSignal,
  approveSignal,
  decideUpdate,
  rejectSignal,
  statusQuery,
  type AlertResolvedInput,
} from '../../shared/messages.js';
import type { PendingApproval, RunbookInput } from '../../shared/types.js';
import { decisionProblem, isRefusal, parseDecision, type Refusal } from './decision-rules.js';
import { notify, type RunIdentity } from './notify.js';
import { now, type RunRecord } from './record.js';

export interface ApprovalRequest {
  step: string;
  /** Why this action is proposed (one line). */
  reason: string;
  /** The evidence rendered for people. */
  brief: string;
  /** The raw evidence, bounded, for the record. */
  evidence?: unknown;
  /**
   * Still broken? Run at once when the alert that started the run resolves while the request waits; absent
   * when a resolved alert must not stop the step (the run has already changed something).
   */
  recheck?: () => Promise<boolean>;
  /** A cooldown or budget is spent (the text says which): a person decides even an unattended step. */
  overLimit?: string;
}

export type GateOutcome =
  | { kind: 'approved'; decision: DecisionRecord }
  | { kind: 'rejected'; decision: DecisionRecord }
  | { kind: 'withdrawn'; decision: DecisionRecord };

export type ProofVerifier = (fields: SignedDecisionFields, proof: DecisionProof) => Promise<ProofCheck>;

const MAX_REFUSED = 50;

/** Patch id: request ids end in the run id's random end, not its time-ordered start. */
const REQUEST_ID_FROM_RANDOM_END = 'request-id-from-random-end';

export class ApprovalGate {
  private requests = 0;
  private outcome: GateOutcome | undefined;
  /** A resolved alert arrived and the waiting request has not re-checked since. */
  private alertToRecheck = false;
  private readonly trigger: RunbookInput['trigger'];

  constructor(
    private readonly record: RunRecord,
    private readonly run: RunIdentity,
    input: RunbookInput,
    private readonly verifyProof: ProofVerifier,
  ) {
    this.trigger = input.trigger;
    if (input.trigger?.kind === 'manual' && input.trigger.ref) record.status.requester = input.trigger.ref;
  }

  /** Handlers first, so the status query and early messages work while the plan loads. */
  installHandlers(): void {
    const onSignal = (approved: boolean) => (input: unknown) => {
      const parsed = parseDecision(input, approved);
      if (isRefusal(parsed)) return this.refuse('signal', input, parsed);
      const problem = this.problem(parsed, 'unsigned');
      if (problem) return this.refuse('signal', parsed, problem);
      this.count(parsed, 'signal', 'unsigned');
    };
    setHandler(approveSignal, onSignal(true));
    setHandler(rejectSignal, onSignal(false));
    setHandler(
      decideUpdate,
      async (input) => {
        const decision = input; // the validator checked its shape
        let authentication: DecisionAuthentication = 'unsigned';
        if (decision.proof) {
          const check = await this.verifyProof(this.signedFields(decision), decision.proof);
          if (!check.ok) this.refuseUpdate(decision, { rule: 'signature', reason: check.reason });
          authentication = decision.proof.kind;
        }
        // The request may have been settled while the signature was checked.
        const problem = this.problem(decision, authentication);
        if (problem) this.refuseUpdate(decision, problem);
        return this.count(decision, 'update', authentication);
      },
      {
        validator: (input: unknown) => {
          const parsed = parseDecision(input);
          if (isRefusal(parsed)) throw new Error(`refused (${parsed.rule}): ${parsed.reason}`);
          const problem = this.problem(parsed, parsed.proof ? parsed.proof.kind : 'unsigned');
          if (problem) throw new Error(`refused (${problem.rule}): ${problem.reason}`);
        },
      },
    );
    setHandler(alertResolvedSignal, (input) => this.onAlertResolved(input));
    setHandler(statusQuery, () => this.record.status);
  }

  /** Waits for the decision on one request (or applies the unattended policy) and returns its outcome. */
  async decide(request: ApprovalRequest, plan: ApprovalPlan): Promise<GateOutcome> {
    const { step } = request;
    // The run id's random end (its start is a timestamp: UUIDv7, alike for runs started within a minute)
    // makes a decision copied from another run's notification name no request here. Runs recorded before
    // that change keep their ids (the fixtures replay them).
    const { runId } = workflowInfo();
    const runMark = patched(REQUEST_ID_FROM_RANDOM_END) ? runId.slice(-8) : runId.slice(0, 8);
    const requestId = `${step}#${++this.requests}.${runMark}`;
    if (plan.unattended.includes(step) && !request.overLimit) {
      log.info('step runs unattended by policy', { step, requestId });
      return this.settle('approved', {
        request: requestId,
        step,
        approved: true,
        by: 'policy',
        comment: `approval.unattended lists ${step}`,
        at: now(),
        via: 'policy',
        authentication: 'none',
      });
    }
    const requested = Date.now();
    const deadline = new Date(requested + plan.timeoutSeconds * 1000).toISOString();
    this.reset();
    this.record.awaiting({
      requestId,
      step,
      reason: request.reason,
      brief: request.brief,
      evidence: boundEvidence(request.evidence),
      requestedAt: new Date(requested).toISOString(),
      deadline,
      policy: stepPolicy(plan, step),
      approvals: [],
    });
    await notify(this.run, 'approval-requested', request.reason, {
      step,
      request: requestId,
      brief: request.brief,
    });

    const stages: { atSeconds: number; run: () => Promise<void> }[] = [];
    if (plan.reminderAfterSeconds > 0 && plan.reminderAfterSeconds < plan.timeoutSeconds)
      stages.push({
        atSeconds: plan.reminderAfterSeconds,
        run: () =>
          notify(this.run, 'approval-reminder', `${step} still awaits a decision (deadline ${deadline})`, {
            step,
            request: requestId,
            brief: request.brief,
          }),
      });
    if (plan.escalateAfterSeconds > 0 && plan.escalateAfterSeconds < plan.timeoutSeconds)
      stages.push({
        atSeconds: plan.escalateAfterSeconds,
        run: () =>
          notify(
            this.run,
            'approval-escalated',
            `${step} has had no decision for ${plan.escalateAfterSeconds}s; escalated to ${plan.escalateTo.join(', ') || 'the configured channels'} (deadline ${deadline})`,
            { step, request: requestId, brief: request.brief, escalateTo: plan.escalateTo },
          ),
      });
    stages.sort((a, b) => a.atSeconds - b.atSeconds);

    for (;;) {
      const next = stages[0];
      const untilSeconds = next ? next.atSeconds : plan.timeoutSeconds;
      const remainingMs = requested + untilSeconds * 1000 - Date.now();
      const woke =
        remainingMs > 0 &&
        (await condition(() => this.outcome !== undefined || this.alertToRecheck, remainingMs));
      if (this.outcome) break;
      if (woke && this.alertToRecheck) {
        this.alertToRecheck = false;
        if (request.recheck && !(await request.recheck())) {
          this.settle('withdrawn', {
            request: requestId,
            step,
            approved: false,
            by: 'alert-resolved',
            comment: 'the alert resolved and the re-check found nothing to fix',
            at: now(),
            via: 'alert-resolved',
            authentication: 'none',
          });
          await notify(
            this.run,
            'approval-withdrawn',
            `${step}: the alert resolved and the target is healthy`,
            {
              step,
              request: requestId,
            },
          );
          break;
        }
        continue;
      }
      if (next) {
        stages.shift();
        await next.run();
        continue;
      }
      const proceed = plan.proceedOnTimeout.includes(step);
      this.settle(proceed ? 'approved' : 'rejected', {
        request: requestId,
        step,
        approved: proceed,
        by: 'timeout',
        comment: proceed
          ? `no decision within ${plan.timeoutSeconds}s; approval.proceedOnTimeout lists ${step}`
          : `no decision within ${plan.timeoutSeconds}s; default is to abort`,
        at: now(),
        via: 'timeout',
        authentication: 'none',
      });
      break;
    }
    this.record.awaiting(undefined);
    return this.outcome as GateOutcome;
  }

  /** A new request starts undecided (a method, so the compiler does not pin `outcome` to undefined). */
  private reset(): void {
    this.outcome = undefined;
    this.alertToRecheck = false;
  }

  /** Whether a re-check is owed because the run's own alert resolved. */
  get alertResolved(): boolean {
    return this.record.status.alertResolved;
  }

  private onAlertResolved(input: AlertResolvedInput): void {
    const trigger = this.trigger;
    const matches =
      trigger?.kind === 'alert' &&
      trigger.ref !== undefined &&
      input?.fingerprint === trigger.ref &&
      (trigger.routingKey === undefined || input.routingKey === trigger.routingKey);
    if (!matches) {
      log.info('resolved alert ignored: it is not the alert that started this run', {
        fingerprint: input?.fingerprint,
        routingKey: input?.routingKey,
      });
      return;
    }
    this.record.alertResolved();
    if (this.record.status.pending) this.alertToRecheck = true;
  }

  private problem(decision: DecisionInput, authentication: DecisionAuthentication): Refusal | undefined {
    return decisionProblem(decision, authentication, {
      pending: this.record.status.pending,
      settled: this.outcome !== undefined,
      runId: workflowInfo().runId,
      requester: this.record.status.requester,
    });
  }

  private signedFields(decision: DecisionInput): SignedDecisionFields {
    const { workflowId, runId } = workflowInfo();
    return {
      workflowId,
      runId,
      request: decision.request,
      step: this.record.status.pending?.step ?? decision.step ?? '',
      approved: decision.approved,
      by: decision.by,
      signedAt: decision.proof?.signedAt ?? '',
    };
  }

  /** Counts one decision: a rejection ends the request, approvals end it once the quorum is reached. */
  private count(
    decision: DecisionInput,
    via: 'signal' | 'update',
    authentication: DecisionAuthentication,
  ): DecisionRecord {
    const pending = this.record.status.pending as PendingApproval;
    const recorded: DecisionRecord = {
      request: pending.requestId,
      step: pending.step,
      approved: decision.approved,
      by: decision.by,
      ...(decision.comment !== undefined && { comment: decision.comment }),
      at: now(),
      via,
      authentication,
    };
    if (!decision.approved) {
      this.settle('rejected', recorded);
      return recorded;
    }
    pending.approvals.push(recorded);
    this.record.decided(recorded);
    if (pending.approvals.length >= pending.policy.minApprovals)
      this.outcome = { kind: 'approved', decision: recorded };
    else this.record.awaiting(pending);
    return recorded;
  }

  private settle(kind: GateOutcome['kind'], decision: DecisionRecord): GateOutcome {
    this.record.decided(decision);
    const outcome: GateOutcome = { kind, decision };
    this.outcome = outcome;
    return outcome;
  }

  private refuse(via: 'signal' | 'update', input: unknown, refusal: Refusal): void {
    const d = (typeof input === 'object' && input !== null ? input : {}) as Partial<DecisionInput>;
    const refused = this.record.status.refused;
    refused.push({
      at: now(),
      via,
      ...(typeof d.request === 'string' && { request: d.request.slice(0, 128) }),
      ...(typeof d.step === 'string' && { step: d.step.slice(0, 128) }),
      ...(typeof d.by === 'string' && { by: d.by.slice(0, 64) }),
      ...(typeof d.approved === 'boolean' && { approved: d.approved }),
      rule: refusal.rule,
      reason: refusal.reason,
    });
    if (refused.length > MAX_REFUSED) refused.splice(0, refused.length - MAX_REFUSED);
    log.warn('decision refused', { via, rule: refusal.rule, reason: refusal.reason });
  }

  private refuseUpdate(decision: DecisionInput, refusal: Refusal): never {
    this.refuse('update', decision, refusal);
    throw ApplicationFailure.nonRetryable(
      `refused (${refusal.rule}): ${refusal.reason}`,
      ERROR_TYPE.validation,
    );
  }
}
