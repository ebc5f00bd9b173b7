import { describe, expect, it } from 'vitest';
import { OpenRuns, type FiredRun } from '../../src/alerts/open-runs.js';

/** A run's close, settled by the test. */
function watches() {
  const closers = new Map<string, () => void>();
  return {
    watchClose: (_workflowId: string, runId: string) =>
      new Promise<void>((resolve) => closers.set(runId, resolve)),
    close: (runId: string) => closers.get(runId)?.(),
    watched: () => [...closers.keys()],
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function asker(runIds: string[]) {
  let calls = 0;
  return {
    ask: (): Promise<FiredRun> => {
      const runId = runIds[Math.min(calls, runIds.length - 1)]!;
      calls++;
      return Promise.resolve({ workflowId: 'wf', runId, outcome: calls === 1 ? 'started' : 'deduplicated' });
    },
    calls: () => calls,
  };
}

describe('open runs known to the receiver', () => {
  it('asks Temporal once for a burst of repeats, and answers the rest from memory', async () => {
    const w = watches();
    const runs = new OpenRuns({ watchClose: w.watchClose });
    const a = asker(['r1']);
    const burst = await Promise.all(Array.from({ length: 50 }, () => runs.fire('k', a.ask)));
    expect(a.calls()).toBe(1);
    expect(burst.filter((r) => r.outcome === 'started')).toHaveLength(1);
    expect(burst.filter((r) => r.outcome === 'deduplicated')).toHaveLength(49);
    for (let i = 0; i < 1_000; i++) expect((await runs.fire('k', a.ask)).outcome).toBe('deduplicated');
    expect(a.calls()).toBe(1);
    expect(w.watched()).toEqual(['r1']);
  });

  it('forgets a run when its watch sees it close, so the next firing starts a new one', async () => {
    const w = watches();
    const runs = new OpenRuns({ watchClose: w.watchClose });
    const a = asker(['r1', 'r2']);
    await runs.fire('k', a.ask);
    w.close('r1');
    await tick();
    expect(runs.size).toBe(0);
    const next = await runs.fire('k', a.ask);
    expect(a.calls()).toBe(2);
    expect(next.runId).toBe('r2');
  });

  it('forgets a run whose watch fails, and asks again after maxAgeMs', async () => {
    let now = 0;
    let failWatch: (err: Error) => void = () => {};
    const runs = new OpenRuns({
      watchClose: () => new Promise((_, reject) => (failWatch = reject)),
      maxAgeMs: 1_000,
      now: () => now,
    });
    const a = asker(['r1']);
    await runs.fire('k', a.ask);
    now = 999;
    await runs.fire('k', a.ask);
    expect(a.calls()).toBe(1);
    now = 1_000;
    await runs.fire('k', a.ask);
    expect(a.calls()).toBe(2);
    failWatch(new Error('connection lost'));
    await tick();
    expect(runs.size).toBe(0);
  });

  it('does not remember a failed ask, nor more runs than maxEntries', async () => {
    const w = watches();
    const runs = new OpenRuns({ watchClose: w.watchClose, maxEntries: 2 });
    await expect(runs.fire('k', () => Promise.reject(new Error('unavailable')))).rejects.toThrow(
      'unavailable',
    );
    expect(runs.size).toBe(0);
    for (const key of ['a', 'b', 'c']) await runs.fire(key, asker([`run-${key}`]).ask);
    expect(runs.size).toBe(2);
    runs.forget('a');
    expect(runs.size).toBe(1);
  });
});
