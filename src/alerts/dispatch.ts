/** Dispatches routed alerts to Temporal: one running workflow per (runbook, target). */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { TASK_QUEUE } from '../temporal/connection.js';
import { alertResolvedSignal } from '../shared/messages.js';
import type { RunbookInput } from '../shared/types.js';
import type { Dispatcher } from './receiver.js';
import { runWorkflowId } from './routing.js';

export interface DispatcherOptions {
  /** The task queue runs start on; the worker's TASK_QUEUE unless given (tests use their own). */
  taskQueue?: string;
}

export function temporalDispatcher(client: Client, options: DispatcherOptions = {}): Dispatcher {
  const taskQueue = options.taskQueue ?? TASK_QUEUE;
  return {
    async fire(runbook, target, alert) {
      const workflowId = runWorkflowId(runbook, target);
      const input: RunbookInput = {
        target,
        trigger: { kind: 'alert', ref: alert.fingerprint ?? alert.labels.alertname },
      };
      try {
        await client.workflow.start(runbook, {
          taskQueue,
          workflowId,
          args: [input],
          // A repeat notification while the run goes on must not start a second one; after it ends, a new
          // firing alert starts a new run.
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          staticSummary: `${runbook} on ${target} (alert ${alert.labels.alertname ?? ''})`,
        });
        return { workflowId, outcome: 'started' };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError)
          return { workflowId, outcome: 'deduplicated' };
        throw err;
      }
    },
    async resolve(runbook, target, alert) {
      const workflowId = runWorkflowId(runbook, target);
      try {
        await client.workflow
          .getHandle(workflowId)
          .signal(alertResolvedSignal, { at: alert.endsAt, fingerprint: alert.fingerprint });
        return { workflowId, outcome: 'delivered' };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { workflowId, outcome: 'no-run' };
        throw err;
      }
    },
  };
}
