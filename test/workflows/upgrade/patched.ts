/**
 * Version N+1 of the workflows, as it must be written: every runbook of src/workflows/, and queueBacklog
 * changed behind patched(). A run started on version N replays its recorded part unchanged (patched()
 * answers false where its history has no marker) and takes the new step after it.
 */
import { patched } from '@temporalio/workflow';
import * as versionN from '../../../src/workflows/index.js';
import type { RunbookInput, RunbookReport } from '../../../src/shared/types.js';
import { AFTER_PATCH, BEFORE_PATCH, markReport, readRelayLogs } from './change.js';

export * from '../../../src/workflows/index.js';

export async function queueBacklog(input?: RunbookInput): Promise<RunbookReport> {
  if (patched(BEFORE_PATCH)) await readRelayLogs(input);
  const report = await versionN.queueBacklog(input);
  if (!patched(AFTER_PATCH)) return report;
  await readRelayLogs(input);
  return markReport(report);
}
