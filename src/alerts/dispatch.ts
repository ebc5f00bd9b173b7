/**
 * Dispatches routed alerts to Temporal through the one start path (src/temporal/start-run.ts): one running
 * workflow per (runbook, target), whoever started it. A repeat notification while the run goes on starts
 * nothing; after it ends, a new firing alert starts a new run.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { alertResolvedSignal } from '../shared/messages.js';
import { runWorkflowId, startRunbook } from '../temporal/start-run.js';
import type { Alert } from './body.js';
import { OpenRuns, type FiredRun } from './open-runs.js';
import type { Dispatcher } from './receiver.js';

export interface DispatcherOptions {
  /** The task queue runs start on; the worker's TASK_QUEUE unless given (tests use their own). */
  taskQueue?: string;
  /** Deadline of each call to Temporal; a paused or unreachable server fails the call (the receiver: 503). */
  callTimeoutMs?: number;
  /**
   * Answer repeats of a firing alert from the runs known to be open, without a round trip to Temporal
   * (src/alerts/open-runs.ts). On unless false; the benchmark turns it off for its baseline.
   */
  rememberOpenRuns?: boolean;
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
  const openRuns =
    options.rememberOpenRuns === false
      ? undefined
      : new OpenRuns({
          // Not bounded: a long poll that ends when the run does (following continue-as-new).
          watchClose: (workflowId, runId, signal) =>
            client.withAbortSignal(signal, () => client.workflow.getHandle(workflowId, runId).result()),
        });
  const start = async (runbook: string, target: string, alert: Alert): Promise<FiredRun> => {
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
      outcome: run.outcome === 'started' ? ('started' as const) : ('deduplicated' as const),
      message: run.message,
    };
  };
  return {
    close: () => openRuns?.close(),
    fire(runbook, target, alert) {
      if (!openRuns) return start(runbook, target, alert);
      return openRuns.fire(routingKey(runbook, target), () => start(runbook, target, alert));
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
        if (err instanceof WorkflowNotFoundError) {
          openRuns?.forget(routingKey(runbook, target));
          return { workflowId, outcome: 'no-run' };
        }
        throw err;
      }
    },
  };
}
