/** Tells the configured channels about a run; a broken channel never fails the runbook. */
import { log, workflowInfo } from '@temporalio/workflow';
import type { NotificationEvent } from '../../notify/message.js';
import { failureMessage } from './conclusion.js';
import { notifications } from './policies.js';

export type NotificationKind = NotificationEvent['kind'];

export interface RunIdentity {
  runbook: string;
  target: () => string;
}

/** The approval request a notification is about, when it is about one. */
export type RequestDetails = Pick<NotificationEvent, 'step' | 'request' | 'brief' | 'escalateTo'>;

export async function notify(
  run: RunIdentity,
  kind: NotificationKind,
  summary: string,
  details: RequestDetails = {},
): Promise<void> {
  const { workflowId, runId } = workflowInfo();
  try {
    await notifications.notify({
      kind,
      runbook: run.runbook,
      target: run.target(),
      workflowId,
      runId,
      summary,
      ...details,
    });
  } catch (err) {
    // The activity already logged and retried.
    log.warn('notification failed', { kind, error: failureMessage(err) });
  }
}
