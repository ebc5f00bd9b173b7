/**
 * What the approval endpoint needs from Temporal: a run's current state, and sending a decision to exactly
 * that run. Behind an interface so the endpoint's unit tests need no server.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { DecisionInput, DecisionRecord } from '../shared/approval.js';
import { decideUpdate, statusQuery } from '../shared/messages.js';
import { TARGET } from '../shared/search-attributes.js';
import type { RunbookStatus } from '../shared/types.js';

export type RunState =
  | { kind: 'unknown' }
  | { kind: 'ended'; runId: string; execution: string }
  | { kind: 'running'; runId: string; runbook: string; target?: string; status: RunbookStatus };

export type DecideResult = { ok: true; record: DecisionRecord } | { ok: false; reason: string };

export interface ApprovalRuns {
  /** The latest run under the workflow id, with its live status when it is running. */
  state(workflowId: string): Promise<RunState>;
  /** Sends the decision to this run only; a refusal carries the workflow's reason. */
  decide(workflowId: string, runId: string, decision: DecisionInput): Promise<DecideResult>;
}

/** How long a query or an Update may take (they need a worker polling the run's task queue). */
const CALL_TIMEOUT_MS = 30_000;

export function temporalApprovalRuns(client: Client): ApprovalRuns {
  const within = <T>(call: () => Promise<T>): Promise<T> =>
    client.withDeadline(Date.now() + CALL_TIMEOUT_MS, call);
  return {
    async state(workflowId) {
      const handle = client.workflow.getHandle(workflowId);
      try {
        const described = await handle.describe();
        if (described.status.name !== 'RUNNING')
          return { kind: 'ended', runId: described.runId, execution: described.status.name };
        const status = await within(() =>
          client.workflow.getHandle(workflowId, described.runId).query(statusQuery),
        );
        const target = status.target ?? described.typedSearchAttributes.get(TARGET);
        return {
          kind: 'running',
          runId: described.runId,
          runbook: status.runbook ?? described.type,
          ...(target !== undefined && { target }),
          status,
        };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { kind: 'unknown' };
        throw err;
      }
    },
    async decide(workflowId, runId, decision) {
      const handle = client.workflow.getHandle(workflowId, runId);
      try {
        const record = await within(() => handle.executeUpdate(decideUpdate, { args: [decision] }));
        return { ok: true, record };
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError)
          return { ok: false, reason: (err.cause ?? err).message };
        if (err instanceof WorkflowNotFoundError)
          return { ok: false, reason: `run ${runId} of ${workflowId} is not running any more` };
        throw err;
      }
    },
  };
}
