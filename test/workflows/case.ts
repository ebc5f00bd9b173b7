/**
 * What a runbook branch test states: the target's faults (a world of fake answers), the approvals in the
 * order the run asks for them and what the approver does, and the expected report and actions. Plus the
 * builders for the case families every remediation shares: a refused approval, and the close after a fix.
 */
import type { RelayAccess, RunbookReport, TargetPlan, Verdict } from '../../src/shared/types.js';
import {
  FAILING,
  type ActionName,
  type ActivityName,
  type FakeCall,
  type FakeWorld,
} from './fake-activities.js';

// Generous for approvals that are given (a busy 2-core machine), a few seconds where one times out.
const APPROVAL_TIMEOUT_SECONDS = 60;
const SHORT_APPROVAL_TIMEOUT_SECONDS = 3;

/** An approval the run asks for, in order, and what the approver does about it. */
export interface Gate {
  /** The step that must be pending in the `status` query. */
  step: string;
  /**
   * `timeout` sends nothing: the deadline passes. The plan's timeout is then a few seconds for every gate,
   * so a timeout gate must be the case's only one (earlier actions can pass by `unattended` instead).
   */
  decision: 'approve' | 'reject' | 'timeout';
  /** Sends `alertResolved` while the step is pending, before the decision: the runbook's re-check runs. */
  alertResolved?: boolean;
}

export const approve = (step: string): Gate => ({ step, decision: 'approve' });
export const reject = (step: string): Gate => ({ step, decision: 'reject' });
export const letTimeOut = (step: string): Gate => ({ step, decision: 'timeout' });
/** The alert resolves while `step` awaits approval, then the step is approved: the re-check decides. */
export const resolveThenApprove = (step: string): Gate => ({ ...approve(step), alertResolved: true });

export interface FinishedRun {
  report?: RunbookReport;
  /** Every fake activity call of the run, in order. */
  calls: readonly FakeCall[];
}

type Expected =
  | {
      verdict: Verdict;
      /** A key phrase of the cause. */
      cause: RegExp;
      /** Every step after the engine's own plan step, as "name verdict". */
      steps: string[];
    }
  | {
      /** The workflow fails (bad input): no report. */
      fails: RegExp;
    };

export interface RunbookCase {
  /** kebab-case: the test's title and the recorded fixture's file name. */
  name: string;
  params?: Record<string, unknown>;
  /** What differs from a healthy target (HEALTHY in fake-activities.ts). */
  world?: FakeWorld;
  /** How the target's relay may be reached (the plan's relayAccess); absent: as runs before it existed. */
  relayAccess?: RelayAccess;
  /** Steps the target's approval policy lets run without a person. */
  unattended?: string[];
  gates?: Gate[];
  expect: Expected & {
    /** How often each action ran; an action not listed must not have run. */
    actions?: Partial<Record<ActionName, number>>;
    /** How often these other activities were called (re-checks call a check again). */
    calls?: Partial<Record<ActivityName, number>>;
  };
  /** Further assertions on the finished run. */
  also?: (run: FinishedRun) => void;
  /**
   * The case states the right behaviour and the runbook does otherwise: why. The test is marked as failing
   * (it.fails), so it turns red, as a reminder to drop this, once the runbook is fixed.
   */
  knownBug?: string;
}

/** A refused approval: the case's set-up, the actions and steps up to the gate, and what ran before it. */
export interface Refusal extends Omit<RunbookCase, 'name' | 'gates' | 'unattended' | 'expect'> {
  /** Steps approved before the refused one. */
  approvedFirst?: string[];
  steps: string[];
  actions?: Partial<Record<ActionName, number>>;
}

/**
 * The two ways `step` is refused, as two cases `<name>-rejected` and `<name>-timed-out`: the run hands
 * over (needs-human) and nothing from the gate on runs. Steps approved first pass by a person when the
 * gate is rejected and by the unattended policy when it times out (a timeout gate is a case's only gate).
 */
export function refusals(name: string, step: string, refusal: Refusal): RunbookCase[] {
  const { approvedFirst = [], steps, actions, ...setUp } = refusal;
  const notApproved = (why: string): RegExp =>
    new RegExp(`^${step} was not approved \\(${why}.*\\); nothing was changed$`);
  return [
    {
      ...setUp,
      name: `${name}-rejected`,
      gates: [...approvedFirst.map(approve), reject(step)],
      expect: { verdict: 'needs-human', cause: notApproved('tester: reject in a test'), steps, actions },
    },
    {
      ...setUp,
      name: `${name}-timed-out`,
      unattended: approvedFirst,
      gates: [letTimeOut(step)],
      expect: {
        verdict: 'needs-human',
        cause: notApproved(`timeout: no decision within ${SHORT_APPROVAL_TIMEOUT_SECONDS}s`),
        steps,
        actions,
      },
    },
  ];
}

/** A remediation up to its last action, for the close several runbooks share. */
export interface Remediation extends Omit<RunbookCase, 'name' | 'expect'> {
  /** The steps up to and including the last action. */
  steps: string[];
  actions: Partial<Record<ActionName, number>>;
}

/**
 * The shared close after a fix (drain, then end-to-end verification), as two cases: the queue does not
 * drain (`<name>-but-not-drained`, needs-human), or it drains and the canary is not delivered
 * (`<name>-but-canary-not-delivered`, failed).
 */
export function closingFailures(name: string, fix: Remediation): RunbookCase[] {
  const { steps, actions, world, ...setUp } = fix;
  return [
    {
      ...setUp,
      name: `${name}-but-not-drained`,
      world: { ...world, waitQueueDrained: FAILING.waitQueueDrained },
      expect: {
        verdict: 'needs-human',
        cause: /^queue did not drain below 5 within 60 s/,
        steps: [...steps, 'queue-drains problem'],
        actions,
      },
    },
    {
      ...setUp,
      name: `${name}-but-canary-not-delivered`,
      world: { ...world, waitCanaryDelivered: FAILING.waitCanaryDelivered },
      expect: {
        verdict: 'failed',
        cause: /^end-to-end verification failed after the fix: relay leg broke/,
        steps: [...steps, 'queue-drains ok', 'canary-accepted ok', 'canary-delivered problem'],
        actions,
      },
    },
  ];
}

/** The plan's approval settings for a case: short deadlines only where an approval is let time out. */
export function approvalFor(c: RunbookCase): Partial<TargetPlan['approval']> {
  const gates = c.gates ?? [];
  const timesOut = gates.some((g) => g.decision === 'timeout');
  if (timesOut && gates.length > 1) {
    throw new Error(`${c.name}: a timeout gate must be the only gate (approve earlier ones by unattended)`);
  }
  const timeoutSeconds = timesOut ? SHORT_APPROVAL_TIMEOUT_SECONDS : APPROVAL_TIMEOUT_SECONDS;
  return { timeoutSeconds, reminderAfterSeconds: timeoutSeconds, unattended: c.unattended ?? [] };
}
