/**
 * The run's record: every step with its verdict and bounded evidence, the pending approval and the
 * decisions. It answers the `status` query and keeps the Web UI's current details and the search
 * attributes in step with what it holds. The only writer of the run's status.
 */
import { setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { boundEvidence } from '../../shared/evidence.js';
import { renderStatusMarkdown } from '../../shared/report.js';
import {
  AWAITING_APPROVAL,
  AWAITING_TARGET,
  CURRENT_STEP,
  RUNBOOK,
  TARGET,
  VERDICT,
} from '../../shared/search-attributes.js';
import type {
  DecisionRecord,
  LeaseStatus,
  PendingApproval,
  RunbookStatus,
  StepKind,
  StepRecord,
} from '../../shared/types.js';
import type { QueueSummary } from '../../parsers/queue-summary.js';
import type { Conclusion } from './conclusion.js';

export const now = (): string => new Date().toISOString();

export class RunRecord {
  readonly status: RunbookStatus;

  constructor(runbook: string, target: string | undefined) {
    this.status = { runbook, target, steps: [], decisions: [], refused: [], alertResolved: false };
    upsertSearchAttributes([
      { key: RUNBOOK, value: runbook },
      { key: AWAITING_APPROVAL, value: false },
    ]);
  }

  setTarget(target: string): void {
    this.status.target = target;
    upsertSearchAttributes([{ key: TARGET, value: target }]);
  }

  begin(name: string, kind: StepKind): StepRecord {
    const record: StepRecord = { name, kind, verdict: 'ok', summary: 'running', startedAt: now() };
    this.status.currentStep = name;
    this.status.steps.push(record);
    upsertSearchAttributes([{ key: CURRENT_STEP, value: name }]);
    this.publish();
    return record;
  }

  end(record: StepRecord, verdict: StepRecord['verdict'], summary: string, evidence?: unknown): void {
    record.verdict = verdict;
    record.summary = summary;
    record.evidence = boundEvidence(evidence);
    record.endedAt = now();
    this.publish();
  }

  skipped(name: string, why: string, kind: StepKind = 'action'): void {
    const at = now();
    this.status.steps.push({
      name,
      kind,
      verdict: 'skipped',
      summary: why,
      startedAt: at,
      endedAt: at,
    });
  }

  /** Whether an action of this run has been applied. */
  changedSomething(): boolean {
    return this.status.steps.some((s) => s.kind === 'action' && s.verdict === 'ok');
  }

  /** What failed so far: the summaries of the checks that found a problem, for the approver. */
  failingSummaries(): string[] {
    return this.status.steps.filter((s) => s.verdict === 'problem').map((s) => s.summary);
  }

  /** The run's latest queue summary, when it took one (and kept it whole). */
  latestQueueSummary(): QueueSummary | undefined {
    const step = [...this.status.steps]
      .reverse()
      .find((s) => s.name === 'queue-summary' && s.verdict !== 'error');
    const evidence = step?.evidence as Partial<QueueSummary> | undefined;
    return evidence && Array.isArray(evidence.ageBuckets) ? (evidence as QueueSummary) : undefined;
  }

  /** The summary of the last step run, for causes that quote what went wrong. */
  lastSummary(): string {
    return this.status.steps.at(-1)?.summary ?? '';
  }

  awaiting(pending: PendingApproval | undefined): void {
    this.status.pending = pending;
    upsertSearchAttributes([{ key: AWAITING_APPROVAL, value: pending !== undefined }]);
    this.publish();
  }

  /** The target's lease: waited for (visible in the search attribute too), held, or let go (undefined). */
  lease(lease: LeaseStatus | undefined): void {
    const waitingBefore = this.status.lease?.state === 'waiting';
    const waiting = lease?.state === 'waiting';
    this.status.lease = lease;
    if (waiting !== waitingBefore) upsertSearchAttributes([{ key: AWAITING_TARGET, value: waiting }]);
    this.publish();
  }

  decided(decision: DecisionRecord): void {
    this.status.decisions.push(decision);
  }

  alertResolved(): void {
    this.status.alertResolved = true;
    this.publish();
  }

  finish(conclusion: Conclusion): void {
    this.status.verdict = conclusion.verdict;
    this.status.cause = conclusion.cause;
    this.status.currentStep = undefined;
    upsertSearchAttributes([
      { key: VERDICT, value: conclusion.verdict },
      { key: CURRENT_STEP, value: 'done' },
    ]);
    this.publish();
  }

  markdown(): string {
    return renderStatusMarkdown(this.status, workflowInfo().workflowId);
  }

  private publish(): void {
    setCurrentDetails(this.markdown());
  }
}
