/** What the fleet tests' stand-in runbook reports: which targets are running now, and the most at once. */
export const seen = { running: new Set<string>(), most: 0, started: [] as string[] };

export async function entered(target: string): Promise<void> {
  seen.running.add(target);
  seen.started.push(target);
  seen.most = Math.max(seen.most, seen.running.size);
}

export async function left(target: string): Promise<void> {
  seen.running.delete(target);
}
