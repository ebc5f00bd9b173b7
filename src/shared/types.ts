/** Types shared by the step engine, the runbooks, the activities and the CLI. Plain data only. */
import type { ApprovalPlan } from './approval.js';

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

export interface ApprovalDecision {
  step: string;
  approved: boolean;
  by: string;
  comment?: string;
}

export interface DecisionRecord extends ApprovalDecision {
  at: string;
  via: 'signal' | 'update' | 'policy' | 'timeout';
}

export interface PendingApproval {
  step: string;
  reason: string;
  evidence?: unknown;
  requestedAt: string;
  deadline: string;
}

/** Input of every runbook: `{}` runs against the default target. Never carries secrets. */
export interface RunbookInput {
  target?: string;
  /** Who or what started the run (alert fingerprint, user). Shown in the report. */
  trigger?: { kind: 'alert' | 'manual' | 'schedule'; ref?: string };
  /** Runbook-specific, validated by the runbook. */
  params?: Record<string, unknown>;
}

/** The non-secret settings the workflow itself needs, loaded from config by an activity on the worker. */
export interface TargetPlan {
  target: string;
  /** The target's approval policy: approver names only (groups expanded), no keys or tokens. */
  approval: ApprovalPlan;
}

export interface RunbookStatus {
  runbook: string;
  target?: string;
  currentStep?: string;
  steps: StepRecord[];
  pending?: PendingApproval;
  decisions: DecisionRecord[];
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
