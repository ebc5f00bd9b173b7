/**
 * The messages every runbook answers. Defined once so the worker, the CLI and the Web UI use the same names.
 * From the UI: Signal `approve` with input {"by": "alice", "comment": "queue checked"} (step defaults to the
 * pending one), or the Update `decide` which refuses a decision for a step that is not pending.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision, DecisionRecord, RunbookStatus } from './types.js';

export interface DecisionInput {
  /** The step being decided; omitted means "the step now awaiting approval". */
  step?: string;
  by: string;
  comment?: string;
}

export const approveSignal = defineSignal<[DecisionInput]>('approve');
export const rejectSignal = defineSignal<[DecisionInput]>('reject');
export const decideUpdate = defineUpdate<DecisionRecord, [ApprovalDecision]>('decide');
export const alertResolvedSignal = defineSignal<[{ at?: string; fingerprint?: string }]>('alertResolved');
export const statusQuery = defineQuery<RunbookStatus>('status');
