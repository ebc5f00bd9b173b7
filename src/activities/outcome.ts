/** Helpers for activities: outcomes and the error types the engine's retry policies recognise. */
import { ApplicationFailure } from '@temporalio/activity';
import type { StepOutcome } from '../shared/types.js';
import { ERROR_TYPE } from '../shared/errors.js';
import { boundOutcome } from './bounds.js';
import { redactResult } from './redaction.js';

/**
 * A step outcome, made safe where it is made: secrets redacted (redaction.ts) and size bounded (bounds.ts),
 * because it goes into workflow history, reports, notifications and the UI.
 */
export function outcome<E>(ok: boolean, summary: string, evidence: E): StepOutcome<E> {
  return boundOutcome(redactResult({ ok, summary, evidence }));
}

/** A mistake in the config file or input: retrying cannot help. */
export function configError(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, ERROR_TYPE.config);
}
