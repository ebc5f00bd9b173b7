/** For benchmarks: a run approved with zero think time. */
import type { WorkflowHandle } from '@temporalio/client';
import { approveSignal, statusQuery } from '../src/shared/messages.js';
import { AWAITING_APPROVAL } from '../src/shared/search-attributes.js';

/**
 * Approves each step that asks as soon as it asks, until the run ends (bounded: 10 minutes); returns the run's
 * result. With `steps`, a step not among them that asks ends the run and fails at once, saying why.
 */
export async function runApproving(handle: WorkflowHandle, steps?: readonly string[]): Promise<unknown> {
  const deadline = Date.now() + 10 * 60_000;
  const done = new Set<string>();
  while (Date.now() < deadline) {
    // Describe is answered by the server alone; the status query only when the run says it awaits approval, so
    // the polling does not queue queries on the worker between the run's own workflow tasks (the overhead
    // benchmark measures those).
    const described = await handle.describe();
    if (described.status.name !== 'RUNNING') return handle.result();
    const pending = described.typedSearchAttributes.get(AWAITING_APPROVAL)
      ? (await handle.query(statusQuery).catch(() => undefined))?.pending
      : undefined;
    if (pending && steps && !steps.includes(pending.step)) {
      // Nobody will approve it: the run would wait an hour. Most often a fault an interrupted run left behind.
      await handle
        .terminate(`bench: step ${pending.step} asked for approval, not expected`)
        .catch(() => undefined);
      throw new Error(
        `${handle.workflowId} asks approval for step ${pending.step}, which this benchmark does not expect ` +
          `(expected: ${steps.join(', ') || 'none'}): is the lab carrying a fault from an interrupted run? ` +
          '`npm run lab -- status` lists them; `npm run lab -- heal all` clears them',
      );
    }
    if (pending && !done.has(pending.requestId)) {
      await handle.signal(approveSignal, { request: pending.requestId, step: pending.step, by: 'bench' });
      done.add(pending.requestId);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${handle.workflowId} did not end within 10 minutes`);
}
