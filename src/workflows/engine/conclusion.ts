/** How a run ends: a verdict with its cause, returned by a runbook body or thrown by `conclude`. */
import { ActivityFailure } from '@temporalio/workflow';
import type { Verdict } from '../../shared/types.js';

export interface Conclusion {
  verdict: Verdict;
  cause: string;
}

/** Thrown by `conclude` to end a run early with a verdict; not an error. */
export class RunbookStop extends Error {
  constructor(readonly conclusion: Conclusion) {
    super(conclusion.cause);
  }
}

/** The message a person should see for a failed activity: the cause, not Temporal's wrapper. */
export function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
