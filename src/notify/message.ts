/** What a notification says: the event, the evidence summary, the exact command and the UI link to decide. */
export interface NotificationEvent {
  kind: 'approval-requested' | 'approval-reminder' | 'finished';
  runbook: string;
  target: string;
  workflowId: string;
  runId: string;
  step?: string;
  summary: string;
}

export interface RenderedNotification {
  subject: string;
  text: string;
  uiUrl?: string;
  commands: string[];
}

const TITLES: Record<NotificationEvent['kind'], string> = {
  'approval-requested': 'Approval needed',
  'approval-reminder': 'Reminder: approval still needed',
  finished: 'Run finished',
};

export function renderNotification(
  event: NotificationEvent,
  ui?: { baseUrl: string; namespace: string },
): RenderedNotification {
  const uiUrl = ui
    ? `${ui.baseUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(event.workflowId)}/${encodeURIComponent(event.runId)}`
    : undefined;
  const deciding = event.kind !== 'finished' && event.step;
  const commands = deciding
    ? [
        `mail-runbooks approve ${event.workflowId} --step ${event.step} --by <your-name> --comment "<why>"`,
        `mail-runbooks reject ${event.workflowId} --step ${event.step} --by <your-name> --comment "<why>"`,
      ]
    : [`mail-runbooks show ${event.workflowId}`];
  const subject = `[mail-runbooks] ${TITLES[event.kind]}: ${event.runbook} on ${event.target}${deciding ? ` (${event.step})` : ''}`;
  const text = [
    subject,
    '',
    event.summary,
    '',
    ...(uiUrl ? [`Open in the Temporal UI: ${uiUrl}`] : []),
    ...(deciding ? ['Decide with:'] : ['Details:']),
    ...commands.map((c) => `  ${c}`),
  ].join('\n');
  return { subject, text, uiUrl, commands };
}
