/** Helpers for activities: outcomes and the error types the engine's retry policies recognise. */
import { ApplicationFailure } from '@temporalio/activity';
import type { StepOutcome } from '../shared/types.js';
import { ERROR_TYPE } from '../shared/errors.js';
import { boundOutcome } from './bounds.js';

/** A step outcome, bounded where it is made (bounds.ts): it goes into workflow history. */
export function outcome<E>(ok: boolean, summary: string, evidence: E): StepOutcome<E> {
  return boundOutcome({ ok, summary, evidence });
}

/** A mistake in the config file or input: retrying cannot help. */
export function configError(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, ERROR_TYPE.config);
}
