/**
 * The messages every runbook answers. Defined once so the worker, the CLI, the receiver and the Web UI use
 * the same names. A decision names the approval request it answers (the status query's
 * `pending.requestId`), e.g. from the UI: Update `decide` with
 * {"request": "flush-queue#1", "approved": true, "by": "alice", "comment": "queue checked"}, or Signal
 * `approve` / `reject` with the same fields but `approved`.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DecisionInput, DecisionRecord, SignalDecisionInput } from './approval.js';
import type { RunbookStatus } from './types.js';

/** What the receiver sends when the alert that started a run resolves. */
export interface AlertResolvedInput {
  fingerprint?: string;
  /** `<runbook>/<target>`: the route the alert took. */
  routingKey?: string;
  at?: string;
}

export const approveSignal = defineSignal<[SignalDecisionInput]>('approve');
export const rejectSignal = defineSignal<[SignalDecisionInput]>('reject');
export const decideUpdate = defineUpdate<DecisionRecord, [DecisionInput]>('decide');
export const alertResolvedSignal = defineSignal<[AlertResolvedInput]>('alertResolved');
export const statusQuery = defineQuery<RunbookStatus>('status');
