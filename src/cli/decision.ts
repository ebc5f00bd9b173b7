/**
 * The decision `approve` and `reject` send: bound to the pending request and to the run, and signed with
 * the approver's OpenSSH ed25519 key when one is given (--key, or MRB_APPROVER_KEY; its passphrase from
 * MRB_APPROVER_KEY_PASSPHRASE). The key's text never appears in a message.
 */
import { readFile } from 'node:fs/promises';
import { SigningKeyError, signDecision } from '../approval/signature.js';
import {
  APPROVER_NAME,
  MAX_COMMENT_CHARS,
  MAX_REQUEST_ID_CHARS,
  type DecisionInput,
} from '../shared/approval.js';
import type { PendingApproval } from '../shared/types.js';
import { CliError } from './output.js';
import { CLI_COMMAND } from '../shared/cli-command.js';

/**
 * What the CLI sends. `request` is missing only when neither --request nor the run names the request (a
 * run whose workflow predates request ids); such a decision cannot be signed.
 */
export type OutgoingDecision = Omit<DecisionInput, 'request'> & { request?: string };

export interface SigningKey {
  /** Where the key was read from: safe to show. */
  path: string;
  text: string;
  passphrase?: string;
}

export interface DecisionDraft {
  workflowId: string;
  runId: string;
  request?: string;
  step: string;
  approved: boolean;
  by: string;
  comment?: string;
}

/** The pending request's id, when the run's status names one. */
export function pendingRequestId(pending: PendingApproval): string | undefined {
  return 'requestId' in pending && typeof pending.requestId === 'string' ? pending.requestId : undefined;
}

/** The approver's signing key: --key, else $MRB_APPROVER_KEY; undefined when neither is given. */
export async function loadSigningKey(
  option: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SigningKey | undefined> {
  const path = option || env.MRB_APPROVER_KEY;
  if (!path) return undefined;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : 'unknown error';
    throw new CliError(`cannot read the approver key ${path} (${code})`);
  }
  const passphrase = env.MRB_APPROVER_KEY_PASSPHRASE;
  return { path, text, ...(passphrase ? { passphrase } : {}) };
}

/** The decision to send, signed at `now` when a key is given. */
export function buildDecision(
  draft: DecisionDraft,
  key: SigningKey | undefined,
  now: Date,
): OutgoingDecision {
  const { workflowId, runId, request, step, approved, by, comment } = draft;
  if (!APPROVER_NAME.test(by))
    throw new CliError(
      `--by "${by}" is not an approver name: letters, digits, . _ @ + - (starting with a letter or digit, at most 64)`,
    );
  if (comment !== undefined && comment.length > MAX_COMMENT_CHARS)
    throw new CliError(`--comment is longer than ${MAX_COMMENT_CHARS} characters`);
  if (request !== undefined && (request === '' || request.length > MAX_REQUEST_ID_CHARS))
    throw new CliError(`--request needs a request id of 1 to ${MAX_REQUEST_ID_CHARS} characters`);
  const decision: OutgoingDecision = {
    ...(request !== undefined ? { request } : {}),
    runId,
    step,
    approved,
    by,
    ...(comment !== undefined ? { comment } : {}),
  };
  if (!key) return decision;
  if (request === undefined)
    throw new CliError(
      `cannot sign: run ${workflowId} does not name its approval request; pass --request <id> (see ${CLI_COMMAND} show ${workflowId})`,
    );
  try {
    decision.proof = signDecision(
      { workflowId, runId, request, step, approved, by, signedAt: now.toISOString() },
      key.text,
      key.passphrase,
    );
  } catch (err) {
    if (!(err instanceof SigningKeyError)) throw err;
    const hint = /passphrase/.test(err.message) ? ' (passphrase: MRB_APPROVER_KEY_PASSPHRASE)' : '';
    throw new CliError(`approver key ${key.path}: ${err.message}${hint}`);
  }
  return decision;
}

/** The note for a decision sent without a signature. */
export const UNSIGNED_NOTE =
  'note: this decision is unsigned (no --key or MRB_APPROVER_KEY); it counts only where approval.allowUnsigned is true';
