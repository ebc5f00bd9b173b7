/**
 * The change that version N+1 of the workflows makes to queueBacklog in the upgrade test: a step before the
 * runbook (where a run started on version N has already gone past) and one after it (where that run has not
 * yet been). Both read the relay's logs, an activity the fakes answer and record.
 */
import { proxyActivities } from '@temporalio/workflow';
import type * as activities from '../../../src/activities/index.js';
import type { RunbookInput, RunbookReport } from '../../../src/shared/types.js';

export const BEFORE_PATCH = 'upgrade-test-relay-logs-first';
export const AFTER_PATCH = 'upgrade-test-relay-logs-after';
/** Added to the report's cause by the step after the runbook. */
export const AFTER_MARK = ' (relay logs read after the runbook: version N+1)';

const { relayLogs } = proxyActivities<typeof activities>({ startToCloseTimeout: '10 seconds' });

/** The runbook's target (the fakes tell targets apart by it). */
export const readRelayLogs = async (input: RunbookInput | undefined): Promise<void> => {
  await relayLogs(input?.target ?? '');
};

export const markReport = (report: RunbookReport): RunbookReport => ({
  ...report,
  cause: `${report.cause}${AFTER_MARK}`,
});
