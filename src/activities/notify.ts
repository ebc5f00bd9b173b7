/** Notification activity: approval requests, reminders and final reports (channels come with issue 5). */
import { log } from '@temporalio/activity';

export interface NotificationEvent {
  kind: 'approval-requested' | 'approval-reminder' | 'finished';
  runbook: string;
  target: string;
  workflowId: string;
  runId: string;
  step?: string;
  summary: string;
}

export async function notify(event: NotificationEvent): Promise<void> {
  log.info('notification', { ...event });
}
