/**
 * The approval contract: what a request looks like, what a decision must carry, how a decision is
 * recorded or refused, and the bytes a signature covers. The workflow checks shape and policy; the worker
 * (an activity) checks signatures, so the workflow never holds a secret.
 */

/** Approver names: short, printable, no spaces (they appear in commands, logs and search results). */
export const APPROVER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;
export const MAX_COMMENT_CHARS = 500;
export const MAX_REQUEST_ID_CHARS = 128;

/** How a decision reached the run, and what proved who made it. */
export type DecisionChannel = 'signal' | 'update' | 'policy' | 'timeout' | 'alert-resolved';
export type DecisionAuthentication =
  /** Signed with the approver's own key (the CLI); the public key is in config. */
  | 'signed-cli'
  /** The receiver's approval endpoint checked the approver's token, then signed with its own key. */
  | 'signed-receiver'
  /** Nobody proved anything: a raw Signal or Update, counted only where approval.allowUnsigned is true. */
  | 'unsigned'
  /** Not a person: the target's policy, a deadline, or the run itself. */
  | 'none';

/** A channel's proof of who decided, verified on the worker before the decision counts. */
export interface DecisionProof {
  kind: 'signed-cli' | 'signed-receiver';
  /** When it was signed (ISO 8601); refused when older than the allowed age or in the future. */
  signedAt: string;
  /** Base64 signature over `signedDecisionBytes(...)`. */
  signature: string;
}

/**
 * A decision as a channel sends it: the Update `decide` takes it whole; the Signals `approve` and `reject`
 * take it without `approved` (their name says it). Every field is type-checked by the workflow.
 */
export interface DecisionInput {
  /** The approval request it answers (the pending request's `requestId`). */
  request: string;
  /** The run it is meant for; a decision naming another run is refused. Required with a proof. */
  runId?: string;
  /** Optional; a decision naming another step than the request's is refused. */
  step?: string;
  approved: boolean;
  by: string;
  comment?: string;
  proof?: DecisionProof;
}

export type SignalDecisionInput = Omit<DecisionInput, 'approved' | 'proof'>;

/** A decision the run accepted (one vote toward the request's quorum, or its end). */
export interface DecisionRecord {
  request: string;
  step: string;
  approved: boolean;
  by: string;
  comment?: string;
  at: string;
  via: DecisionChannel;
  authentication: DecisionAuthentication;
}

/** A decision the run did not count, and why: recorded for the audit. */
export interface RefusedDecision {
  at: string;
  via: 'signal' | 'update';
  request?: string;
  step?: string;
  by?: string;
  approved?: boolean;
  /** The rule it broke, e.g. "fourEyes", "approvers", "signature", "request". */
  rule: string;
  reason: string;
}

/** The approval policy of one step, resolved from the target's config (groups expanded). */
export interface StepApprovalPolicy {
  /** Who may decide; empty means anyone the channel authenticates. */
  approvers: string[];
  /** Distinct approvals needed; one rejection ends the request. */
  minApprovals: number;
  /** The person who started the run may not decide its steps. */
  fourEyes: boolean;
  /** Unsigned decisions (raw Signals and Updates) count; they are recorded as unsigned. */
  allowUnsigned: boolean;
}

/** The target's approval settings as the workflow needs them (no secrets: names only). */
export interface ApprovalPlan extends StepApprovalPolicy {
  timeoutSeconds: number;
  /** 0: no reminder. */
  reminderAfterSeconds: number;
  /** 0: no escalation. */
  escalateAfterSeconds: number;
  /** Who is told at escalation (approver names; the channels are the configured ones). */
  escalateTo: string[];
  /** Steps that proceed when nobody decides by the deadline; every other step aborts. */
  proceedOnTimeout: string[];
  /** Steps that run without approval on this target (an explicit, logged policy). */
  unattended: string[];
  /** Per-step overrides of approvers, minApprovals, fourEyes, allowUnsigned. */
  steps: Record<string, Partial<StepApprovalPolicy>>;
}

/** The policy that applies to one step: the target's, with the step's overrides. */
export function stepPolicy(plan: ApprovalPlan, step: string): StepApprovalPolicy {
  const override = plan.steps[step] ?? {};
  return {
    approvers: override.approvers ?? plan.approvers,
    minApprovals: override.minApprovals ?? plan.minApprovals,
    fourEyes: override.fourEyes ?? plan.fourEyes,
    allowUnsigned: override.allowUnsigned ?? plan.allowUnsigned,
  };
}

/** What is signed: every field that makes a decision mean something, in a fixed order. */
export interface SignedDecisionFields {
  workflowId: string;
  runId: string;
  request: string;
  step: string;
  approved: boolean;
  by: string;
  signedAt: string;
}

export function signedDecisionBytes(fields: SignedDecisionFields): string {
  const { workflowId, runId, request, step, approved, by, signedAt } = fields;
  return JSON.stringify([
    'mail-runbooks decision v1',
    workflowId,
    runId,
    request,
    step,
    approved,
    by,
    signedAt,
  ]);
}

/** The result of checking a proof on the worker. */
export type ProofCheck = { ok: true } | { ok: false; reason: string };
