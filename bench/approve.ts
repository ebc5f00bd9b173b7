/** For benchmarks: a run approved with zero think time. */
import type { WorkflowHandle } from '@temporalio/client';
import { approveSignal, statusQuery } from '../src/shared/messages.js';

/**
 * Approves each step that asks (only those in `steps`, when given) as soon as it asks, until the run ends
 * (bounded: 10 minutes); returns the run's result.
 */
export async function runApproving(handle: WorkflowHandle, steps?: readonly string[]): Promise<unknown> {
  const deadline = Date.now() + 10 * 60_000;
  const done = new Set<string>();
  while (Date.now() < deadline) {
    const status = await handle.query(statusQuery).catch(() => undefined);
    const pending = status?.pending;
    if (pending && (!steps || steps.includes(pending.step)) && !done.has(pending.requestId)) {
      await handle.signal(approveSignal, { request: pending.requestId, step: pending.step, by: 'bench' });
      done.add(pending.requestId);
    }
    const { status: s } = await handle.describe();
    if (s.name !== 'RUNNING') return handle.result();
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${handle.workflowId} did not end within 10 minutes`);
}
