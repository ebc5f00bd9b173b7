/**
 * What a runbook body sees: its target and parameters, one method per kind of step, `conclude`, and the last
 * step's summary. Each step method runs its activities through the retry policy of its kind and records the
 * step; nothing else of the run's state is reachable from a runbook.
 */
import type { StepKind, StepOutcome, Verdict } from '../../shared/types.js';
import type { Conclusion } from './conclusion.js';
import type { Activities } from './policies.js';

export type { Activities } from './policies.js';
export type { Conclusion } from './conclusion.js';

/** A step's work: calls activities through the proxy it is handed. */
export type StepCall<E> = (activities: Activities) => Promise<StepOutcome<E>>;

export interface ActOptions {
  /** Why this action is proposed (one line); shown to the approver. */
  reason: string;
  /** What the action will touch, and how much: "142 deferred messages", "supervisord program amavis". */
  touches: string;
  /** The exact command, as a person would type it on the host. */
  command: string;
  /** What of the change lives only inside the container (the approver is warned; see BriefInput). */
  lostOnRecreate?: string;
  /** The raw evidence, bounded, kept with the request. */
  evidence?: unknown;
  /**
   * Is the target still broken? Run (through the read-only policy) when the alert that started the run
   * resolves, while the request waits or before the action; false means the action is skipped and the run
   * ends `healthy`. Every state-changing step has one.
   */
  recheck: (activities: Activities) => Promise<boolean>;
}

export interface RunContext {
  /** The target's name (the config's default target when the input named none). */
  readonly target: string;
  /** The runbook's own parameters from the run input, unvalidated: the runbook validates them. */
  readonly params: Readonly<Record<string, unknown>>;

  /** A read-only step. A thrown error ends the run `failed`. */
  check<E>(name: string, call: StepCall<E>): Promise<StepOutcome<E>>;
  /**
   * A state-changing step: waits for approval (or the target's unattended policy), then runs. `onceKey` is
   * unique to this run and step: actions use it so that a retried activity does not apply a change twice.
   * Rejected or timed out, the run ends `needs-human` and nothing changes; withdrawn (the alert resolved
   * and the re-check found the target healthy), the run ends `healthy`.
   */
  act<E>(
    name: string,
    options: ActOptions,
    call: (activities: Activities, onceKey: string) => Promise<StepOutcome<E>>,
  ): Promise<StepOutcome<E>>;
  /** A bounded wait (queue drain, a service coming back): long timeout, heartbeats. */
  wait<E>(name: string, call: StepCall<E>): Promise<StepOutcome<E>>;
  /** A step of the end-to-end verification (canary submission, delivery). */
  verify<E>(name: string, call: StepCall<E>): Promise<StepOutcome<E>>;
  /**
   * Records a step the run cannot do on this target as skipped, with why (it runs nothing); the report
   * and the UI show it where the step would have been.
   */
  skip(name: string, kind: StepKind, why: string): void;
  /**
   * The target's relay is a provider relay (SES, a smarthost): reachable over SMTP only, no SSH. Steps
   * that need the relay's SSH must be skipped (`skip`), saying so, and the trouble handed to a person.
   */
  providerRelay(): boolean;
  /** Ends the run now with this verdict. */
  conclude(verdict: Verdict, cause: string): never;
  /** The summary of the last step run, for causes that quote what went wrong. */
  lastSummary(): string;
}

export type RunbookBody = (run: RunContext) => Promise<Conclusion>;
