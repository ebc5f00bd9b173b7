/**
 * Workflows for the start-path tests: a trivial runbook registered as `queueBacklog` (the CLI starts only
 * known runbooks) that runs until told to finish, and the real `scheduledFleet` and `fleet` that schedules
 * start (and `scheduledStart`, what older schedules start).
 */
import { condition, defineSignal, setHandler } from '@temporalio/workflow';
import type { RunbookInput } from '../../src/shared/types.js';

export { fleet } from '../../src/workflows/fleet.js';
export { scheduledFleet } from '../../src/workflows/scheduled-fleet.js';
export { scheduledStart } from '../../src/workflows/scheduled-start.js';

export const finishSignal = defineSignal('finish');

/** Runs until the `finish` signal (at most 5 minutes) and returns its input, so tests can read the trigger. */
export async function queueBacklog(input: RunbookInput): Promise<RunbookInput> {
  let finished = false;
  setHandler(finishSignal, () => void (finished = true));
  await condition(() => finished, '5 minutes');
  return input;
}
