/**
 * Activities for the cluster test's worker processes (test/helpers/cluster-worker.ts). Test code only; no lab.
 * - The engine fixture's (test/workflows/engine-fixture-activities.ts), with its "system" in a file rather
 *   than in memory, since the test's two worker processes must agree whether it is repaired.
 * - `slowStep`: a step that takes a while, heartbeating, and leaves a file naming the worker process that
 *   ran each attempt, so the test knows which worker to kill.
 */
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Context, sleep } from '@temporalio/activity';
import type { StepOutcome } from '../../src/shared/types.js';
import { makePlan } from '../workflows/engine-fixture-activities.js';

export { requestTargetLease } from '../../src/activities/guard.js';

function testDir(): string {
  const dir = process.env.MRB_CLUSTER_TEST_DIR;
  if (!dir) throw new Error('MRB_CLUSTER_TEST_DIR is not set');
  return dir;
}

const repairedFile = (): string => join(testDir(), 'repaired');
const repaired = (): Promise<boolean> =>
  access(repairedFile()).then(
    () => true,
    () => false,
  );

export async function look(): Promise<StepOutcome> {
  const ok = await repaired();
  return { ok, summary: ok ? 'fine' : 'broken', evidence: {} };
}

export async function stillBroken(): Promise<boolean> {
  return !(await repaired());
}

export async function repair(): Promise<StepOutcome> {
  await writeFile(repairedFile(), String(process.pid));
  return { ok: true, summary: 'repaired', evidence: {} };
}

export async function notify(): Promise<void> {}

/** Anyone may approve; the approval waits long enough for the slowest test. */
export const loadTargetPlan = makePlan({ timeoutSeconds: 900 });

export interface StepRecord {
  step: number;
  attempt: number;
  pid: number;
}

export async function slowStep(step: number, ms: number): Promise<StepRecord> {
  const { attempt } = Context.current().info;
  await writeFile(join(testDir(), `step-${step}.attempt-${attempt}`), String(process.pid));
  const until = Date.now() + ms;
  while (Date.now() < until) {
    Context.current().heartbeat();
    await sleep(Math.min(200, Math.max(0, until - Date.now())));
  }
  return { step, attempt, pid: process.pid };
}
