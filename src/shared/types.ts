import type { ActionLimits, LeaseHolder } from './guard.js';
import type { ApprovalPlan, DecisionRecord, RefusedDecision, StepApprovalPolicy } from './approval.js';
/** Types shared by the step engine, the runbooks, the activities and the CLI. Plain data only. */

export type Verdict = 'healthy' | 'fixed' | 'needs-human' | 'failed';
export type StepKind = 'check' | 'action' | 'wait' | 'verify';
export type StepVerdict = 'ok' | 'problem' | 'error' | 'skipped' | 'rejected' | 'approved' | 'unattended';

/** What every check/action activity returns: a verdict, one line for people, bounded evidence for the record. */
export interface StepOutcome<E = Record<string, unknown>> {
  ok: boolean;
  summary: string;
  evidence: E;
}

export interface StepRecord {
  name: string;
  kind: StepKind;
  verdict: StepVerdict;
  summary: string;
  evidence?: unknown;
  startedAt: string;
  endedAt?: string;
}

export type { DecisionRecord, RefusedDecision } from './approval.js';

/** A state-changing step waiting for people to decide. */
export interface PendingApproval {
  /** Unique within the run (`<step>#<n>`): a decision must name it. */
  requestId: string;
  step: string;
  reason: string;
  /** The evidence rendered for people: what it touches, why, the queue's shape, the exact command. */
  brief: string;
  /** The raw evidence, bounded, for the record. */
  evidence?: unknown;
  requestedAt: string;
  deadline: string;
  /** Who may decide this request and how many must agree. */
  policy: StepApprovalPolicy;
  /** Approvals counted so far toward `policy.minApprovals`. */
  approvals: DecisionRecord[];
}

/** Input of every runbook: `{}` runs against the default target. Never carries secrets. */
export interface RunbookInput {
  target?: string;
  /** Who or what started the run (alert fingerprint, user). Shown in the report. */
  trigger?: {
    kind: 'alert' | 'manual' | 'schedule';
    /** Alert: its fingerprint; manual: the person; schedule: the schedule's name. */
    ref?: string;
    /** Alert: the route (`<runbook>/<target>`) that started the run; a resolved alert must match it. */
    routingKey?: string;
  };
  /** Runbook-specific, validated by the runbook. */
  params?: Record<string, unknown>;
}

/** The non-secret settings the workflow itself needs, loaded from config by an activity on the worker. */
export interface TargetPlan {
  target: string;
  approval: ApprovalPlan;
  /** The target's wait limits (thresholds), from which wait steps take their timeouts; absent in older runs. */
  waits?: WaitLimits;
  /** Cooldown, budgets and the lease wait (absent in runs recorded before they existed). */
  limits?: ActionLimits;
  /**
   * How the runbooks may reach the relay: over SSH (administered), or over SMTP only (a provider relay such
   * as SES or a smarthost: steps that need its SSH are skipped and handed to a person). Absent: ssh.
   */
  relayAccess?: RelayAccess;
}

export type RelayAccess = 'ssh' | 'smtp-only';

export interface WaitLimits {
  drainSeconds: number;
  deliverySeconds: number;
}

/** A state-changing step's hold on its target (src/shared/guard.ts): waiting for another run, or holding it. */
export interface LeaseStatus {
  state: 'waiting' | 'held';
  step: string;
  target: string;
  /** Waiting: the run that acts on the target now. */
  holder?: LeaseHolder;
  /** Waiting: when the holder got it; held: when this run got it (ISO 8601). */
  since?: string;
  /** Waiting: when this run gives up and ends needs-human (ISO 8601). */
  waitUntil?: string;
}

export interface RunbookStatus {
  runbook: string;
  target?: string;
  currentStep?: string;
  steps: StepRecord[];
  pending?: PendingApproval;
  /** The target's lease, while a state-changing step waits for it or holds it. */
  lease?: LeaseStatus;
  decisions: DecisionRecord[];
  /** Decisions that were not counted, and why (the last 50). */
  refused: RefusedDecision[];
  /** The person who started the run, when a person did (four-eyes rule). */
  requester?: string;
  alertResolved: boolean;
  verdict?: Verdict;
  cause?: string;
}

export interface RunbookReport extends RunbookStatus {
  target: string;
  verdict: Verdict;
  cause: string;
  startedAt: string;
  finishedAt: string;
  markdown: string;
}
