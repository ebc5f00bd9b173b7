/**
 * Bounded polling for the wait steps: heartbeats every round (so a dead worker is noticed within the
 * heartbeat timeout and the wait resumes elsewhere), stops at the deadline or on cancellation.
 */
import { Context } from '@temporalio/activity';

export interface PollResult<T> {
  done: boolean;
  last: T;
  rounds: number;
  waitedMs: number;
}

export async function pollUntil<T>(
  deadlineSeconds: number,
  intervalMs: number,
  probe: () => Promise<T>,
  isDone: (value: T) => boolean,
): Promise<PollResult<T>> {
  const started = Date.now();
  const deadline = started + deadlineSeconds * 1000;
  const maxRounds = Math.ceil((deadlineSeconds * 1000) / intervalMs) + 1;
  let last = await probe();
  let rounds = 1;
  while (!isDone(last) && Date.now() < deadline && rounds < maxRounds) {
    Context.current().heartbeat({ rounds });
    await Context.current().sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
    last = await probe();
    rounds++;
  }
  return { done: isDone(last), last, rounds, waitedMs: Date.now() - started };
}
