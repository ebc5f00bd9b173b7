/** Tells the configured channels about a run; a broken channel never fails the runbook. */
import { log, workflowInfo } from '@temporalio/workflow';
import { failureMessage } from './conclusion.js';
import { notifications } from './policies.js';

export type NotificationKind = 'approval-requested' | 'approval-reminder' | 'finished';

export interface RunIdentity {
  runbook: string;
  target: () => string;
}

export async function notify(
  run: RunIdentity,
  kind: NotificationKind,
  summary: string,
  step?: string,
): Promise<void> {
  const { workflowId, runId } = workflowInfo();
  try {
    await notifications.notify({
      kind,
      runbook: run.runbook,
      target: run.target(),
      workflowId,
      runId,
      step,
      summary,
    });
  } catch (err) {
    // The activity already logged and retried.
    log.warn('notification failed', { kind, error: failureMessage(err) });
  }
}
