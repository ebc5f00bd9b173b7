/**
 * The receiver's approval endpoint: the link in a notification. GET /approve/<workflowId>?request=<id>
 * with the approver's token shows the pending request and its evidence; the form POSTs the decision back.
 * The endpoint authenticates the approver by token, checks the form's CSRF token, and signs the decision as
 * the receiver (the target's approval.receiverKey), so the worker can tell it from an unsigned one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { signAsReceiver } from '../approval/signature.js';
import { MAX_COMMENT_CHARS, type DecisionInput } from '../shared/approval.js';
import type { PendingApproval } from '../shared/types.js';
import {
  approverForToken,
  confirmPage,
  createCsrf,
  messagePage,
  type ApproverToken,
  type Csrf,
} from './approval-page.js';
import type { ApprovalRuns, RunState } from './approval-runs.js';
import { HttpError, readBody } from './http.js';

export const APPROVE_PATH = '/approve/';

/** The endpoint's secrets, resolved from the config at start. */
export interface ApprovalEndpointConfig {
  /** Approvers who have a token. */
  approvers: ApproverToken[];
  /** The receiver's signing key (OpenSSH ed25519 private key text) by target name. */
  receiverKeys: ReadonlyMap<string, string>;
}

export interface ApprovalEndpointOptions {
  /** Undefined, or without approvers or keys: the endpoint answers 404 "not configured". */
  config?: ApprovalEndpointConfig;
  runs?: ApprovalRuns;
  maxBodyBytes: number;
  log: (line: string) => void;
  csrf?: Csrf;
  now?: () => Date;
}

interface Setup {
  config: ApprovalEndpointConfig;
  runs: ApprovalRuns;
}

/** A page to send, and the outcome it is counted under. */
export interface Reply {
  status: number;
  outcome: string;
  html: string;
  headers?: Record<string, string>;
}

const fail = (status: number, reason: string, message: string): HttpError =>
  new HttpError(status, message, reason);

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Not authorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Nothing to decide',
  413: 'Too large',
  415: 'Unsupported form',
};

function bearer(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

function workflowIdOf(path: string): string {
  let id: string;
  try {
    id = decodeURIComponent(path.slice(APPROVE_PATH.length));
  } catch {
    throw fail(400, 'bad-request', 'the run id in the path is not valid URL encoding');
  }
  if (!id) throw fail(404, 'not-found', 'name the run: /approve/<workflowId>?request=<request id>');
  return id;
}

/** The running run with a pending request, or the reason there is nothing to decide. */
function pendingOf(
  workflowId: string,
  state: RunState,
): {
  state: Extract<RunState, { kind: 'running' }>;
  pending: PendingApproval;
} {
  if (state.kind === 'unknown') throw fail(404, 'not-found', `no run with id ${workflowId}`);
  if (state.kind === 'ended')
    throw fail(409, 'not-pending', `run ${workflowId} has ended (${state.execution.toLowerCase()})`);
  const pending = state.status.pending;
  if (!pending) throw fail(409, 'not-pending', `run ${workflowId} has no request awaiting approval now`);
  return { state, pending };
}

export function approvalEndpoint(options: ApprovalEndpointOptions) {
  const csrf = options.csrf ?? createCsrf();
  const now = options.now ?? (() => new Date());
  const { config, runs } = options;
  const setup: Setup | undefined =
    config && runs && config.approvers.length > 0 && config.receiverKeys.size > 0
      ? { config, runs }
      : undefined;

  function authenticate({ config }: Setup, token: string | undefined): string {
    const approver = approverForToken(token, config.approvers);
    if (approver === undefined) throw fail(401, 'unauthorized', 'missing or unknown token');
    return approver;
  }

  async function show(setup: Setup, req: IncomingMessage, url: URL, workflowId: string): Promise<Reply> {
    const fromLink = url.searchParams.get('token') ?? undefined;
    const approver = authenticate(setup, bearer(req.headers.authorization) ?? fromLink);
    const request = url.searchParams.get('request');
    if (!request) throw fail(400, 'bad-request', 'name the request: ?request=<request id>');
    const { state, pending } = pendingOf(workflowId, await setup.runs.state(workflowId));
    if (pending.requestId !== request)
      throw fail(
        409,
        'not-pending',
        `request ${request} is not pending on run ${workflowId}; the pending request is ${pending.requestId}`,
      );
    const html = confirmPage({
      runbook: state.runbook,
      target: state.target ?? '(unknown)',
      workflowId,
      runId: state.runId,
      step: pending.step,
      request,
      reason: pending.reason,
      brief: pending.brief,
      deadline: pending.deadline,
      approver,
      csrf: csrf.token({ approver, workflowId, runId: state.runId, request }),
      ...(bearer(req.headers.authorization) === undefined && fromLink !== undefined && { token: fromLink }),
    });
    return { status: 200, outcome: 'page', html };
  }

  async function decide(setup: Setup, req: IncomingMessage, workflowId: string): Promise<Reply> {
    if (!String(req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded'))
      throw fail(415, 'content-type', 'send the form as application/x-www-form-urlencoded');
    const form = new URLSearchParams(await readBody(req, options.maxBodyBytes));
    const field = (name: string): string | undefined => form.get(name) ?? undefined;
    const approver = authenticate(setup, bearer(req.headers.authorization) ?? field('token'));
    const request = field('request');
    const runId = field('runId');
    if (!request || !runId) throw fail(400, 'bad-request', 'the form needs request and runId');
    if (!csrf.check({ approver, workflowId, runId, request }, field('csrf')))
      throw fail(
        403,
        'csrf',
        'this form was not made by this receiver for you, this run and this request (or the receiver restarted): open the link again',
      );
    const approvedField = field('approved');
    if (approvedField !== 'true' && approvedField !== 'false')
      throw fail(400, 'bad-request', 'approved must be true or false');
    const approved = approvedField === 'true';
    const comment = field('comment')?.trim();
    if (comment !== undefined && comment.length > MAX_COMMENT_CHARS)
      throw fail(400, 'bad-request', `the comment is longer than ${MAX_COMMENT_CHARS} characters`);

    const { state, pending } = pendingOf(workflowId, await setup.runs.state(workflowId));
    if (state.runId !== runId)
      return refused(
        `this page was for run ${runId}; run ${state.runId} is the one running under ${workflowId} now: open its link`,
      );
    const key = state.target === undefined ? undefined : setup.config.receiverKeys.get(state.target);
    if (key === undefined)
      throw fail(
        404,
        'not-configured',
        `the approval endpoint is not configured for target ${state.target ?? '(unknown)'}: it has no approval.receiverKey`,
      );
    const signedAt = now().toISOString();
    const fields = { workflowId, runId, request, step: pending.step, approved, by: approver, signedAt };
    const decision: DecisionInput = {
      request,
      runId,
      step: pending.step,
      approved,
      by: approver,
      ...(comment ? { comment } : {}),
      proof: signAsReceiver(fields, key),
    };
    const result = await setup.runs.decide(workflowId, runId, decision);
    const verb = approved ? 'approval' : 'rejection';
    options.log(
      `approvals: ${approver}'s ${verb} of ${request} on ${workflowId}: ${result.ok ? 'recorded' : 'refused'}`,
    );
    if (!result.ok) return refused(result.reason);
    const { record } = result;
    return {
      status: 200,
      outcome: 'recorded',
      html: messagePage('Decision recorded', [
        `${record.approved ? 'Approved' : 'Rejected'} ${record.step} (request ${record.request}) on ${workflowId} as ${record.by}, at ${record.at}.`,
        'The decision was signed by the receiver; the run goes on by itself.',
      ]),
    };
  }

  function refused(reason: string): Reply {
    return { status: 409, outcome: 'refused', html: messagePage('Decision refused', [reason]) };
  }

  async function route(req: IncomingMessage, url: URL): Promise<Reply> {
    if (req.method !== 'GET' && req.method !== 'POST')
      return {
        ...errorReply(fail(405, 'method', 'use GET to see a request and POST to decide')),
        headers: { allow: 'GET, POST' },
      };
    if (!setup)
      throw fail(
        404,
        'not-configured',
        'the approval endpoint is not configured: it needs approvers with a token and a target with approval.receiverKey',
      );
    const workflowId = workflowIdOf(url.pathname);
    return req.method === 'GET' ? show(setup, req, url, workflowId) : decide(setup, req, workflowId);
  }

  function errorReply(err: HttpError): Reply {
    return {
      status: err.status,
      outcome: err.reason,
      html: messagePage(TITLES[err.status] ?? 'Error', [err.message]),
    };
  }

  /** Answers one request under APPROVE_PATH; returns the outcome it was counted under. */
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<string> {
    let reply: Reply;
    try {
      reply = await route(req, new URL(req.url ?? '/', 'http://receiver'));
    } catch (err) {
      if (err instanceof HttpError) reply = errorReply(err);
      else {
        // Temporal unreachable and the like: nothing was decided; the approver may try again.
        options.log(`approvals: ${(err as Error).message}`);
        reply = {
          status: 503,
          outcome: 'unavailable',
          html: messagePage('Unavailable', [
            `nothing was decided: ${(err as Error).message}`,
            'Try again in a moment.',
          ]),
        };
      }
    }
    res.writeHead(reply.status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // The link may carry the approver's token: never pass it on, never frame the page.
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
      ...(reply.status === 413 && { connection: 'close' }),
      ...reply.headers,
    });
    res.end(reply.html);
    return reply.outcome;
  };
}
