/**
 * The rules a decision must pass before it counts, as pure functions: its shape (people type JSON into the
 * Web UI: every field is checked, "false" is not false), the request it answers, and the step's policy
 * (who may approve, four eyes, unsigned decisions, one vote each). Signature checks happen on the worker.
 */
import {
  APPROVER_NAME,
  MAX_COMMENT_CHARS,
  MAX_REQUEST_ID_CHARS,
  type DecisionAuthentication,
  type DecisionInput,
} from '../../shared/approval.js';
import type { PendingApproval } from '../../shared/types.js';

export interface Refusal {
  /** The rule broken: shape, request, run, step, decided, approvers, fourEyes, unsigned, duplicate, signature. */
  rule: string;
  reason: string;
}

const refusal = (rule: string, reason: string): Refusal => ({ rule, reason });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const KNOWN_FIELDS = new Set(['request', 'runId', 'step', 'approved', 'by', 'comment', 'proof']);

/**
 * Checks every field's type and bounds. `approved` comes from the Signal's name for approve/reject, and must
 * be a boolean in an Update.
 */
export function parseDecision(input: unknown, approved?: boolean): DecisionInput | Refusal {
  if (!isRecord(input)) return refusal('shape', 'a decision must be a JSON object');
  const unknown = Object.keys(input).filter((k) => !KNOWN_FIELDS.has(k));
  if (unknown.length) return refusal('shape', `unknown field(s): ${unknown.join(', ')}`);
  const { request, runId, step, by, comment, proof } = input;
  if (typeof request !== 'string' || !request || request.length > MAX_REQUEST_ID_CHARS)
    return refusal(
      'shape',
      '"request" must name the approval request (the pending requestId, e.g. "flush-queue#1")',
    );
  if (runId !== undefined && (typeof runId !== 'string' || runId.length > 64))
    return refusal('shape', '"runId" must be a string');
  if (step !== undefined && (typeof step !== 'string' || step.length > 128))
    return refusal('shape', '"step" must be a string');
  const decided = approved ?? input.approved;
  if (typeof decided !== 'boolean')
    return refusal('shape', '"approved" must be true or false (a JSON boolean, not a string)');
  if (typeof by !== 'string' || !APPROVER_NAME.test(by))
    return refusal('shape', '"by" must be a name of 1-64 letters, digits and . _ @ + - (no spaces)');
  if (comment !== undefined && (typeof comment !== 'string' || comment.length > MAX_COMMENT_CHARS))
    return refusal('shape', `"comment" must be a string of at most ${MAX_COMMENT_CHARS} characters`);
  if (approved !== undefined && proof !== undefined)
    return refusal('shape', 'signed decisions go through the Update "decide", not a Signal');
  if (proof !== undefined) {
    if (
      !isRecord(proof) ||
      (proof.kind !== 'signed-cli' && proof.kind !== 'signed-receiver') ||
      typeof proof.signedAt !== 'string' ||
      typeof proof.signature !== 'string' ||
      proof.signature.length > 512
    )
      return refusal('shape', '"proof" must be {kind: "signed-cli"|"signed-receiver", signedAt, signature}');
    if (runId === undefined) return refusal('shape', 'a signed decision must name its "runId"');
  }
  return {
    request,
    ...(runId !== undefined && { runId }),
    ...(step !== undefined && { step }),
    approved: decided,
    by,
    ...(comment !== undefined && { comment }),
    ...(proof !== undefined && { proof: proof as unknown as DecisionInput['proof'] }),
  };
}

export function isRefusal(value: DecisionInput | Refusal): value is Refusal {
  return 'rule' in value;
}

export interface DecisionContext {
  pending: PendingApproval | undefined;
  /** The request already has its outcome (quorum reached, rejected, withdrawn, timed out). */
  settled: boolean;
  runId: string;
  /** The person who started the run, when a person did. */
  requester: string | undefined;
}

/** Why this decision may not count now, or undefined when it may. */
export function decisionProblem(
  decision: DecisionInput,
  authentication: DecisionAuthentication,
  ctx: DecisionContext,
): Refusal | undefined {
  const { pending } = ctx;
  if (!pending)
    return refusal('request', `no approval request is pending (decision for ${decision.request})`);
  if (decision.request !== pending.requestId)
    return refusal(
      'request',
      `request ${decision.request} is not pending (pending: ${pending.requestId}, step ${pending.step})`,
    );
  if (ctx.settled) return refusal('decided', `request ${pending.requestId} is already decided`);
  if (decision.runId !== undefined && decision.runId !== ctx.runId)
    return refusal('run', `the decision is for run ${decision.runId}, not this run (${ctx.runId})`);
  if (decision.step !== undefined && decision.step !== pending.step)
    return refusal('step', `step ${decision.step} is not the one pending (${pending.step})`);
  const { policy } = pending;
  if (authentication === 'unsigned' && !policy.allowUnsigned)
    return refusal(
      'unsigned',
      'unsigned decisions do not count on this target (approval.allowUnsigned is false): approve with the CLI and your key, or through the link in the notification',
    );
  if (policy.approvers.length && !policy.approvers.includes(decision.by))
    return refusal(
      'approvers',
      `${decision.by} may not decide ${pending.step} (approvers: ${policy.approvers.join(', ')})`,
    );
  if (policy.fourEyes && ctx.requester !== undefined && decision.by === ctx.requester)
    return refusal(
      'fourEyes',
      `${decision.by} started this run and may not approve its steps (approval.fourEyes)`,
    );
  if (pending.approvals.some((a) => a.by === decision.by))
    return refusal(
      'duplicate',
      `${decision.by} has already approved ${pending.requestId}; another approver is needed`,
    );
  return undefined;
}
