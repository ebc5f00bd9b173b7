/**
 * The fleet workflow with a stand-in runbook for its tests: `endToEndVerification` here reports after a
 * moment, by its target's name: `fail-*` ends failed, `throw-*` fails without a report, `slow-*` waits until
 * the test lets it go (to hold a target), anything else ends healthy. It tells the test when it starts and
 * ends (activities), so the test sees how many run at once.
 */
import {
  ApplicationFailure,
  condition,
  defineSignal,
  proxyActivities,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import type { RunbookInput, RunbookReport } from '../../src/shared/types.js';
import type * as fleetActivities from './fleet-fixture-activities.js';

export { fleet } from '../../src/workflows/fleet.js';

const { entered, left } = proxyActivities<typeof fleetActivities>({ startToCloseTimeout: '10s' });

export const releaseSignal = defineSignal('release');

export async function endToEndVerification(input: RunbookInput): Promise<RunbookReport> {
  const target = input.target ?? '?';
  let released = false;
  setHandler(releaseSignal, () => void (released = true));
  await entered(target);
  if (target.startsWith('slow-')) await condition(() => released, '60s');
  else await sleep('1s');
  await left(target);
  if (target.startsWith('throw-')) throw ApplicationFailure.nonRetryable(`${target} broke`);
  const verdict = target.startsWith('fail-') ? 'failed' : 'healthy';
  return { verdict, cause: `${target}: ${verdict}` } as RunbookReport;
}
// What a config schedule starts: the real starter, whose activity starts the fleet above.
export { scheduledFleet } from '../../src/workflows/scheduled-fleet.js';
