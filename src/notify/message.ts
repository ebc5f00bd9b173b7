/** What a notification says: the event, the evidence summary, the exact command and the UI link to decide. */
import { CLI_COMMAND } from '../shared/cli-command.js';
export interface NotificationEvent {
  kind: 'approval-requested' | 'approval-reminder' | 'approval-escalated' | 'approval-withdrawn' | 'finished';
  runbook: string;
  target: string;
  workflowId: string;
  runId: string;
  step?: string;
  /** The approval request's id: a decision must name it. */
  request?: string;
  /** The evidence rendered for people (what it touches, why, the queue's shape, the command). */
  brief?: string;
  /** Who an escalation goes to. */
  escalateTo?: string[];
  summary: string;
}

export interface RenderedNotification {
  subject: string;
  text: string;
  uiUrl?: string;
  /** The approval endpoint's page for the request, when the receiver's public URL is configured. */
  approvalUrl?: string;
  commands: string[];
}

const TITLES: Record<NotificationEvent['kind'], string> = {
  'approval-requested': 'Approval needed',
  'approval-reminder': 'Reminder: approval still needed',
  'approval-escalated': 'Escalated: approval still needed',
  'approval-withdrawn': 'Approval request withdrawn',
  finished: 'Run finished',
};

/** The approval endpoint's page for a request (no token: the approver adds theirs). */
export function approvalLink(publicUrl: string, workflowId: string, request: string): string {
  return `${publicUrl.replace(/\/$/, '')}/approve/${encodeURIComponent(workflowId)}?request=${encodeURIComponent(request)}`;
}

export function renderNotification(
  event: NotificationEvent,
  ui?: { baseUrl: string; namespace: string },
  /** The receiver's public base URL (alerts.publicUrl): approval requests link to its approval page. */
  approvalBaseUrl?: string,
): RenderedNotification {
  const uiUrl = ui
    ? `${ui.baseUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(event.workflowId)}/${encodeURIComponent(event.runId)}`
    : undefined;
  const deciding =
    (event.kind === 'approval-requested' ||
      event.kind === 'approval-reminder' ||
      event.kind === 'approval-escalated') &&
    event.step &&
    event.request;
  const decide = (verb: string) =>
    `${CLI_COMMAND} ${verb} ${event.workflowId} --run ${event.runId} --request '${event.request}' --by <your-name> --comment "<why>"`;
  const approvalUrl =
    deciding && approvalBaseUrl && event.request
      ? approvalLink(approvalBaseUrl, event.workflowId, event.request)
      : undefined;
  const commands = deciding
    ? [decide('approve'), decide('reject')]
    : [`${CLI_COMMAND} show ${event.workflowId}`];
  const subject = `[mail-runbooks] ${TITLES[event.kind]}: ${event.runbook} on ${event.target}${event.step ? ` (${event.step})` : ''}`;
  const text = [
    subject,
    '',
    event.summary,
    ...(event.request ? [`Request: ${event.request}`] : []),
    ...(event.escalateTo?.length ? [`Escalated to: ${event.escalateTo.join(', ')}`] : []),
    ...(event.brief ? ['', event.brief] : []),
    '',
    ...(uiUrl ? [`Open in the Temporal UI: ${uiUrl}`] : []),
    ...(approvalUrl ? [`Decide in the browser (add &token=<your token>): ${approvalUrl}`] : []),
    ...(deciding ? ['Decide with:'] : ['Details:']),
    ...commands.map((c) => `  ${c}`),
  ].join('\n');
  return { subject, text, uiUrl, ...(approvalUrl && { approvalUrl }), commands };
}
