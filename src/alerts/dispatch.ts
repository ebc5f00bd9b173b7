/**
 * Dispatches routed alerts to Temporal through the one start path (src/temporal/start-run.ts): one running
 * workflow per (runbook, target), whoever started it. A repeat notification while the run goes on starts
 * nothing; after it ends, a new firing alert starts a new run.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { alertResolvedSignal } from '../shared/messages.js';
import { runWorkflowId, startRunbook } from '../temporal/start-run.js';
import type { Alert } from './body.js';
import type { Dispatcher } from './receiver.js';

export interface DispatcherOptions {
  /** The task queue runs start on; the worker's TASK_QUEUE unless given (tests use their own). */
  taskQueue?: string;
  /** Deadline of each call to Temporal; a paused or unreachable server fails the call (the receiver: 503). */
  callTimeoutMs?: number;
}

const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/** The route an alert took, as the run keeps it: a resolved alert must come the same way. */
const routingKey = (runbook: string, target: string): string => `${runbook}/${target}`;

/** The alert as people know it: its name, and the fingerprint that tells repeats of it apart. */
function alertDescription(alert: Alert): string {
  const name = alert.labels.alertname ?? '(no alertname)';
  return alert.fingerprint ? `alert ${name} (fingerprint ${alert.fingerprint})` : `alert ${name}`;
}

export function temporalDispatcher(client: Client, options: DispatcherOptions = {}): Dispatcher {
  const bounded = <T>(call: () => Promise<T>): Promise<T> =>
    client.withDeadline(Date.now() + (options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS), call);
  return {
    async fire(runbook, target, alert) {
      const run = await bounded(() =>
        startRunbook(client, {
          runbook,
          target,
          trigger: {
            kind: 'alert',
            ref: alert.fingerprint ?? alert.labels.alertname,
            routingKey: routingKey(runbook, target),
          },
          startedBy: alertDescription(alert),
          ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
        }),
      );
      return {
        workflowId: run.workflowId,
        runId: run.runId,
        outcome: run.outcome === 'started' ? 'started' : 'deduplicated',
        message: run.message,
      };
    },
    async resolve(runbook, target, alert) {
      // The running run of (runbook, target), whether an alert, a person or a schedule started it.
      const workflowId = runWorkflowId(runbook, target);
      try {
        await bounded(() =>
          client.workflow.getHandle(workflowId).signal(alertResolvedSignal, {
            at: alert.endsAt,
            fingerprint: alert.fingerprint ?? alert.labels.alertname,
            routingKey: routingKey(runbook, target),
          }),
        );
        return { workflowId, outcome: 'delivered' };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { workflowId, outcome: 'no-run' };
        throw err;
      }
    },
  };
}
