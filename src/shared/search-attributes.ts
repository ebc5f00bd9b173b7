/**
 * Custom search attributes: they make "every run awaiting approval", "runs against target X" one query in
 * the Temporal UI or CLI. Values are plain names and flags, never secrets (search attributes are not encrypted).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const RUNBOOK = defineSearchAttributeKey('MrbRunbook', SearchAttributeType.KEYWORD);
export const TARGET = defineSearchAttributeKey('MrbTarget', SearchAttributeType.KEYWORD);
export const CURRENT_STEP = defineSearchAttributeKey('MrbStep', SearchAttributeType.KEYWORD);
export const AWAITING_APPROVAL = defineSearchAttributeKey('MrbAwaitingApproval', SearchAttributeType.BOOL);
export const VERDICT = defineSearchAttributeKey('MrbVerdict', SearchAttributeType.KEYWORD);
/** A state-changing step waits while another run acts on the same target. */
export const AWAITING_TARGET = defineSearchAttributeKey('MrbAwaitingTarget', SearchAttributeType.BOOL);

export const ALL_SEARCH_ATTRIBUTES = [
  RUNBOOK,
  TARGET,
  CURRENT_STEP,
  AWAITING_APPROVAL,
  VERDICT,
  AWAITING_TARGET,
] as const;
