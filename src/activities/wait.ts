/**
 * Bounded polling for the wait steps: heartbeats every round (so a dead worker is noticed within the
 * heartbeat timeout and the wait resumes elsewhere), stops at the deadline or on cancellation.
 */
import { Context } from '@temporalio/activity';
import type { StepOutcome } from '../shared/types.js';
import { outcome } from './outcome.js';

export interface PollResult<T> {
  done: boolean;
  last: T;
  rounds: number;
  waitedMs: number;
}

/** `firstAfterMs`: how long to wait before the first probe (within the deadline); default at once. */
export async function pollUntil<T>(
  deadlineSeconds: number,
  intervalMs: number,
  probe: () => Promise<T>,
  isDone: (value: T) => boolean,
  firstAfterMs = 0,
): Promise<PollResult<T>> {
  const started = Date.now();
  const deadline = started + deadlineSeconds * 1000;
  const maxRounds = Math.ceil((deadlineSeconds * 1000) / intervalMs) + 1;
  if (firstAfterMs > 0) await Context.current().sleep(Math.min(firstAfterMs, deadlineSeconds * 1000));
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

/**
 * Polls a check until it is ready (default: ok), bounded by `seconds`; the outcome says how long it took,
 * with the check's last summary and evidence.
 */
export async function waitForOutcome<E>(
  seconds: number,
  intervalMs: number,
  probe: () => Promise<StepOutcome<E>>,
  words: { done: string; notDone: string },
  ready: (o: StepOutcome<E>) => boolean = (o) => o.ok,
): Promise<StepOutcome<E>> {
  const polled = await pollUntil(seconds, intervalMs, probe, ready);
  const waited = Math.round(polled.waitedMs / 1000);
  const { summary, evidence } = polled.last;
  return polled.done
    ? outcome(true, `${words.done} after ${waited} s: ${summary}`, evidence)
    : outcome(false, `${words.notDone} after ${waited} s: ${summary}`, evidence);
}

/**
 * Runs one piece of work that may outlast the heartbeat timeout (an SMTP session with 30 s timeouts),
 * heartbeating every `everyMs` meanwhile so the server sees the worker is alive.
 */
export async function heartbeating<T>(work: () => Promise<T>, everyMs = 5_000): Promise<T> {
  const ctx = Context.current();
  ctx.heartbeat();
  const timer = setInterval(() => ctx.heartbeat(), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
