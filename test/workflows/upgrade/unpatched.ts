/**
 * The same change as patched.ts without patched(): what the upgrade test shows would break a run that
 * waits for approval across the deploy (its replay meets a command its history does not have).
 */
import * as versionN from '../../../src/workflows/index.js';
import type { RunbookInput, RunbookReport } from '../../../src/shared/types.js';
import { markReport, readRelayLogs } from './change.js';

export * from '../../../src/workflows/index.js';

export async function queueBacklog(input?: RunbookInput): Promise<RunbookReport> {
  await readRelayLogs(input);
  const report = await versionN.queueBacklog(input);
  await readRelayLogs(input);
  return markReport(report);
}
