/**
 * The pages of the receiver's approval endpoint, and the small checks behind them: which approver a token
 * belongs to, and the CSRF token that binds a form to the approver, the run and the request it was shown
 * for. Everything a page shows comes from a run or a request, so everything is escaped.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** An approver who may use the endpoint, with the token (resolved from its secret reference). */
export interface ApproverToken {
  name: string;
  token: string;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The approver the token belongs to; every approver is compared, in constant time, whatever matches. */
export function approverForToken(
  token: string | undefined,
  approvers: readonly ApproverToken[],
): string | undefined {
  if (!token) return undefined;
  const presented = digest(token);
  let found: string | undefined;
  for (const approver of approvers) {
    if (timingSafeEqual(presented, digest(approver.token)) && found === undefined) found = approver.name;
  }
  return found;
}

/** What a CSRF token is bound to: a form shown to this approver, for this run and request. */
export interface CsrfScope {
  approver: string;
  workflowId: string;
  runId: string;
  request: string;
}

export interface Csrf {
  token(scope: CsrfScope): string;
  check(scope: CsrfScope, presented: string | undefined): boolean;
}

/** CSRF tokens signed with a key that lives as long as the process (a restart invalidates open pages). */
export function createCsrf(key: Buffer = randomBytes(32)): Csrf {
  const token = (scope: CsrfScope): string =>
    createHmac('sha256', key)
      .update(JSON.stringify([scope.approver, scope.workflowId, scope.runId, scope.request]))
      .digest('base64url');
  return {
    token,
    check(scope, presented) {
      if (typeof presented !== 'string') return false;
      const expected = Buffer.from(token(scope));
      const given = Buffer.from(presented);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function page(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;padding:0 1em}' +
      'pre{background:#f4f4f4;padding:1em;white-space:pre-wrap;overflow-wrap:anywhere}' +
      'dt{font-weight:bold}textarea{width:100%}button{margin:1em 1em 0 0;padding:.5em 1.5em}</style>',
    '</head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    body,
    '</body></html>',
  ].join('\n');
}

/** A page that says one thing: an outcome, or why nothing was done. */
export function messagePage(title: string, lines: readonly string[]): string {
  return page(title, lines.map((line) => `<p>${escapeHtml(line)}</p>`).join('\n'));
}

export interface ConfirmPage {
  runbook: string;
  target: string;
  workflowId: string;
  runId: string;
  step: string;
  request: string;
  reason: string;
  brief: string;
  deadline: string;
  approver: string;
  csrf: string;
  /** The approver's token, when it came in the link: the form carries it to the POST. */
  token?: string;
}

const hidden = (name: string, value: string): string =>
  `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;

/** The confirm page: what is asked, the evidence, and a form to approve or reject with a comment. */
export function confirmPage(p: ConfirmPage): string {
  const facts: [string, string][] = [
    ['Runbook', p.runbook],
    ['Target', p.target],
    ['Step', p.step],
    ['Request', p.request],
    ['Run', `${p.workflowId} (run ${p.runId})`],
    ['Why', p.reason],
    ['Deadline', p.deadline],
    ['You decide as', p.approver],
  ];
  return page(
    `Approve ${p.step} on ${p.target}?`,
    [
      '<dl>',
      ...facts.map(([term, value]) => `<dt>${term}</dt><dd>${escapeHtml(value)}</dd>`),
      '</dl>',
      '<h2>Evidence</h2>',
      `<pre>${escapeHtml(p.brief)}</pre>`,
      `<form method="post" action="/approve/${escapeHtml(encodeURIComponent(p.workflowId))}">`,
      hidden('request', p.request),
      hidden('runId', p.runId),
      hidden('csrf', p.csrf),
      ...(p.token !== undefined ? [hidden('token', p.token)] : []),
      '<label for="comment">Comment</label>',
      '<textarea id="comment" name="comment" rows="3" maxlength="500"></textarea>',
      '<button type="submit" name="approved" value="true">Approve</button>',
      '<button type="submit" name="approved" value="false">Reject</button>',
      '</form>',
    ].join('\n'),
  );
}
