/** What the fleet tests' stand-in runbook reports: which targets are running now, and the most at once. */
// The real activity that a schedule's starter workflow calls to start its fleet.
export { startScheduledFleet } from '../../src/activities/start-run.js';

export const seen = { running: new Set<string>(), most: 0, started: [] as string[] };

export async function entered(target: string): Promise<void> {
  seen.running.add(target);
  seen.started.push(target);
  seen.most = Math.max(seen.most, seen.running.size);
}

export async function left(target: string): Promise<void> {
  seen.running.delete(target);
}
