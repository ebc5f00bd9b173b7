/** The steps of the no-op actions runbook (test/workflows/noop-steps.ts), all unattended: the bench has no person. */
export const MAX_NOOP_ACTIONS = 501;
export const noopActionName = (i: number): string => `noop-action-${i}`;
