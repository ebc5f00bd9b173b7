/**
 * What the CLI knows about one run: its execution (describe), its live status (the `status` query) while
 * it runs, its report (the workflow result) once it completed, or why it ended without one.
 */
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { statusQuery } from '../shared/messages.js';
import type { RunbookReport, RunbookStatus } from '../shared/types.js';
import { CliError, errorLine } from './output.js';
import { CLI_COMMAND } from '../shared/cli-command.js';

export interface RunView {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, TERMINATED, CANCELLED, TIMED_OUT, ... */
  execution: string;
  startTime: string;
  closeTime?: string;
  /** Steps, pending approval, decisions: from the status query, or the report once completed. */
  status?: RunbookStatus;
  /** The final report (COMPLETED runs). */
  report?: RunbookReport;
  /** Why the run ended without a report (FAILED, TERMINATED, ...). */
  failure?: string;
  /** Why the live status is missing (no worker answered the query). */
  statusError?: string;
}

/** How long a status query may take: it needs a worker polling the run's task queue. */
export const QUERY_TIMEOUT_MS = 10_000;

export function isUnknownRun(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError;
}

export function unknownRun(workflowId: string): CliError {
  return new CliError(`no run with id ${workflowId} (see \`${CLI_COMMAND} list --all\`)`);
}

async function queryStatus(
  client: Client,
  handle: WorkflowHandle,
  timeoutMs: number,
): Promise<{ status?: RunbookStatus; error?: string }> {
  try {
    return {
      status: await client.withDeadline(Date.now() + timeoutMs, () => handle.query(statusQuery)),
    };
  } catch (err) {
    if (isUnknownRun(err)) throw err;
    return { error: errorLine(err) };
  }
}

export async function fetchRun(
  client: Client,
  workflowId: string,
  /** runId: that run exactly (the audit reads closed runs under a reused workflow id); default the latest. */
  options: { queryTimeoutMs?: number; runId?: string } = {},
): Promise<RunView> {
  const handle = client.workflow.getHandle(workflowId, options.runId);
  const timeoutMs = options.queryTimeoutMs ?? QUERY_TIMEOUT_MS;
  try {
    const d = await handle.describe();
    const view: RunView = {
      workflowId: d.workflowId,
      runId: d.runId,
      workflowType: d.type,
      taskQueue: d.taskQueue,
      execution: d.status.name,
      startTime: d.startTime.toISOString(),
      closeTime: d.closeTime?.toISOString(),
    };
    if (view.execution === 'RUNNING') {
      const { status, error } = await queryStatus(client, handle, timeoutMs);
      view.status = status;
      if (error)
        view.statusError = `the run did not answer the status query (${error}); is a worker polling task queue ${view.taskQueue}?`;
    } else if (view.execution === 'COMPLETED') {
      view.report = (await handle.result()) as RunbookReport;
      view.status = view.report;
    } else {
      try {
        await handle.result();
      } catch (err) {
        view.failure = errorLine(err instanceof WorkflowFailedError && err.cause ? err.cause : err);
      }
      // A worker can still answer the query for a closed run (it replays the history); best effort.
      const { status } = await queryStatus(client, handle, Math.min(timeoutMs, 3_000));
      view.status = status;
    }
    return view;
  } catch (err) {
    if (isUnknownRun(err)) throw unknownRun(workflowId);
    throw err;
  }
}

/** The live status, or a CliError saying why there is none. */
export function requireStatus(view: RunView): RunbookStatus {
  if (view.status) return view.status;
  throw new CliError(
    `run ${view.workflowId}: ${view.statusError ?? `no status (${view.execution.toLowerCase()})`}`,
  );
}
