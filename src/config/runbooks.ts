/**
 * The runbook names config may refer to (alert routes, schedules). They are the workflow types the worker
 * serves; add a name here when a runbook is added. No imports, so workflow code may use it too.
 */
export const RUNBOOK_NAMES = [
  'statusCheck',
  'queueBacklog',
  'relayUnresponsive',
  'inboundDeferred',
  'endToEndVerification',
  'startStop',
] as const;

export type ConfigRunbookName = (typeof RUNBOOK_NAMES)[number];
