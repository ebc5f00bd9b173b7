/**
 * One set of heartbeat details per activity attempt. Progress (queue lines read, batches done) and the
 * intent of an action (what it is about to change, when) are merged into it, never replace each other;
 * while a host command runs, a timer repeats the details every few seconds so that a long command (a
 * restart of up to two minutes) is not taken for a dead worker by the heartbeat timeout.
 */
import { Context } from '@temporalio/activity';
import { COMMAND_HEARTBEAT_MS } from '../commands/index.js';

const details = new WeakMap<Context, Record<string, unknown>>();

function current(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // not inside an activity (a unit test, a CLI helper): nothing to report to
  }
}

/** Merges `patch` into this attempt's heartbeat details and sends them. */
export function beat(patch: Record<string, unknown>): void {
  const ctx = current();
  if (!ctx) return;
  const merged = { ...details.get(ctx), ...patch };
  details.set(ctx, merged);
  ctx.heartbeat(merged);
}

/** Runs `work`, heartbeating the current details every COMMAND_HEARTBEAT_MS until it settles. */
export async function whileBeating<T>(work: () => Promise<T>): Promise<T> {
  const ctx = current();
  if (!ctx) return work();
  const timer = setInterval(() => ctx.heartbeat(details.get(ctx)), COMMAND_HEARTBEAT_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** This attempt's cancellation (activity cancelled, or its heartbeat timed out), or none outside an activity. */
export function cancellation(): AbortSignal | undefined {
  return current()?.cancellationSignal;
}

/** This attempt's number (1 for the first), or 1 outside an activity. */
export function attemptNumber(): number {
  return current()?.info.attempt ?? 1;
}
