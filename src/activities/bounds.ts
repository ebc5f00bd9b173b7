/**
 * Activity results go into workflow history: each must stay well under Temporal's payload limits whatever
 * the config allows (5,000 log lines of 2 KiB each are 10 MB). Results over the bound are trimmed here,
 * keeping their shape (the workflow still reads the same fields): the largest list loses its oldest half,
 * the largest text its beginning, until the whole fits; the summary says so.
 */
import { boundEvidence } from '../shared/evidence.js';
import type { StepOutcome } from '../shared/types.js';
import { redactError, redactResult } from './redaction.js';

/** The most any activity result may weigh as JSON: 256 KB less room for the payload's own encoding. */
export const MAX_RESULT_BYTES = 240 * 1024;
/** A summary is a sentence or a few; beyond this it is cut. */
export const MAX_SUMMARY_CHARS = 4_000;
/** Trimming steps before the fallback (a preview of the JSON); each halves one list or text. */
const MAX_TRIM_STEPS = 400;
const MIN_TRIMMED_TEXT = 256;

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');

interface Slot {
  holder: Record<string, unknown> | unknown[];
  key: string | number;
  bytes: number;
}

/** The heaviest list (of two or more) or long text inside `root`, as the place that holds it. */
function heaviest(root: { value: unknown }): Slot | undefined {
  let best: Slot | undefined;
  const visit = (holder: Slot['holder'], key: string | number, value: unknown): void => {
    const trimmable =
      (Array.isArray(value) && value.length > 1) ||
      (typeof value === 'string' && value.length > MIN_TRIMMED_TEXT);
    if (trimmable) {
      const bytes = jsonBytes(value);
      if (!best || bytes > best.bytes) best = { holder, key, bytes };
    }
    if (Array.isArray(value)) value.forEach((v, i) => visit(value, i, v));
    else if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) visit(value as Record<string, unknown>, k, v);
  };
  visit(root, 'value', root.value);
  return best;
}

/** Halves the heaviest part: a list keeps its newest (last) half, a text its end. False when none is left. */
function trimHeaviest(root: { value: unknown }): boolean {
  const slot = heaviest(root);
  if (!slot) return false;
  const holder = slot.holder as Record<string | number, unknown>;
  const value = holder[slot.key];
  if (Array.isArray(value)) holder[slot.key] = value.slice(Math.floor(value.length / 2));
  else if (typeof value === 'string') holder[slot.key] = `…${value.slice(Math.floor(value.length / 2))}`;
  return true;
}

/** `value` trimmed (a copy) until its JSON fits `maxBytes`; the same value when it already does. */
export function boundValue<T>(value: T, maxBytes = MAX_RESULT_BYTES): { value: T; trimmed: boolean } {
  if (value === undefined || jsonBytes(value) <= maxBytes) return { value, trimmed: false };
  const root = { value: JSON.parse(JSON.stringify(value)) as unknown };
  for (let step = 0; step < MAX_TRIM_STEPS && jsonBytes(root.value) > maxBytes; step++) {
    if (!trimHeaviest(root)) break;
  }
  if (jsonBytes(root.value) > maxBytes) root.value = boundEvidence(root.value, maxBytes / 2);
  return { value: root.value as T, trimmed: true };
}

const cutSummary = (summary: string): string =>
  summary.length <= MAX_SUMMARY_CHARS ? summary : `${summary.slice(0, MAX_SUMMARY_CHARS)}…`;

/** A step outcome that fits MAX_RESULT_BYTES: a bounded summary, evidence trimmed to what is left. */
export function boundOutcome<E>(result: StepOutcome<E>, maxBytes = MAX_RESULT_BYTES): StepOutcome<E> {
  const summary = cutSummary(result.summary);
  const room = maxBytes - jsonBytes({ ...result, summary, evidence: null }) - 200;
  const evidence = boundValue(result.evidence, room);
  if (!evidence.trimmed && summary === result.summary) return result;
  return {
    ...result,
    summary: evidence.trimmed
      ? `${summary} (evidence trimmed to ${Math.round(maxBytes / 1024)} KB: older entries left out)`
      : summary,
    evidence: evidence.value,
  };
}

const isOutcome = (value: unknown): value is StepOutcome<unknown> =>
  !!value &&
  typeof value === 'object' &&
  typeof (value as StepOutcome).ok === 'boolean' &&
  typeof (value as StepOutcome).summary === 'string' &&
  'evidence' in value;

/** Any activity's result within MAX_RESULT_BYTES (step outcomes through boundOutcome). */
export function boundResult<T>(result: T): T {
  if (isOutcome(result)) return boundOutcome(result) as T;
  return boundValue(result).value;
}

/**
 * The activities as the worker registers them: each result redacted (redaction.ts) and bounded, each error
 * message redacted, whether or not the activity made its result with outcome().
 */
export function boundActivities<A extends Record<string, (...args: never[]) => Promise<unknown>>>(
  activities: A,
): A {
  const bounded: Record<string, (...args: never[]) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(activities)) {
    bounded[name] = async (...args: never[]) => {
      try {
        return boundResult(redactResult(await fn(...args)));
      } catch (err) {
        throw redactError(err);
      }
    };
  }
  return bounded as A;
}
