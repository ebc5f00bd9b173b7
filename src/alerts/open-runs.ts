/**
 * The runs this receiver knows to be open, so that a storm of repeats of one alert costs Temporal nothing.
 * The first firing of a (runbook, target) asks Temporal, and firings that arrive while it asks share that one
 * call. While the run it found is open, repeats are answered from here. A watch on the run (a long poll for
 * its close) forgets it as soon as it ends, so the next firing starts a new run. An entry is also asked about
 * again after `maxAgeMs`, in case a watch was lost; a watch that fails for any reason forgets its run too.
 * The one gap: a firing that arrives between a run's close and the watch hearing of it (a round trip) is
 * answered "deduplicated"; Alertmanager's next repeat of the group starts the new run.
 */
import { setMaxListeners } from 'node:events';

export interface FiredRun {
  workflowId: string;
  outcome: 'started' | 'deduplicated';
  runId?: string;
  message?: string;
}

export interface OpenRunsOptions {
  /** Settles when the run closes, can no longer be watched, or `signal` aborts. */
  watchClose: (workflowId: string, runId: string, signal: AbortSignal) => Promise<unknown>;
  /** Answer from memory for at most this long after Temporal last said the run was open. */
  maxAgeMs?: number;
  /** Runs remembered at most; past it, firings ask Temporal each time, as without this cache. */
  maxEntries?: number;
  now?: () => number;
}

interface Known {
  workflowId: string;
  runId: string;
  since: number;
}

export const DEFAULT_OPEN_RUN_MAX_AGE_MS = 5 * 60_000;
export const DEFAULT_MAX_OPEN_RUNS = 20_000;

export class OpenRuns {
  private readonly known = new Map<string, Known>();
  private readonly asking = new Map<string, Promise<FiredRun>>();
  private readonly maxAgeMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly stopped = new AbortController();

  constructor(private readonly options: OpenRunsOptions) {
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_OPEN_RUN_MAX_AGE_MS;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_OPEN_RUNS;
    this.now = options.now ?? Date.now;
    // One abort listener per watched run (thousands with a fleet of targets), all on this one signal.
    setMaxListeners(0, this.stopped.signal);
  }

  get size(): number {
    return this.known.size;
  }

  /** The open run of `key` from memory, or `ask` Temporal (once for all who ask at the same time). */
  fire(key: string, ask: () => Promise<FiredRun>): Promise<FiredRun> {
    const known = this.known.get(key);
    if (known && this.now() - known.since < this.maxAgeMs)
      return Promise.resolve({
        workflowId: known.workflowId,
        runId: known.runId,
        outcome: 'deduplicated',
        message: `already running: workflow ${known.workflowId} run ${known.runId}; not starting another`,
      });
    const pending = this.asking.get(key);
    if (pending) return pending.then((run) => ({ ...run, outcome: 'deduplicated' as const }));
    const asked = ask().then((run) => {
      this.remember(key, run);
      return run;
    });
    this.asking.set(key, asked);
    const done = (): void => void this.asking.delete(key);
    asked.then(done, done);
    return asked;
  }

  /** Stops every watch and forgets every run (the receiver is closing). */
  close(): void {
    this.stopped.abort();
    this.known.clear();
  }

  /** Forget `key`'s run: it is known to have ended (a resolved alert found none running). */
  forget(key: string): void {
    this.known.delete(key);
  }

  private remember(key: string, run: FiredRun): void {
    if (!run.runId || this.stopped.signal.aborted) return;
    const previous = this.known.get(key);
    if (previous?.runId === run.runId) {
      previous.since = this.now();
      return;
    }
    if (!previous && this.known.size >= this.maxEntries) return;
    const entry = { workflowId: run.workflowId, runId: run.runId, since: this.now() };
    this.known.set(key, entry);
    const closed = (): void => {
      // Only this run's entry: a newer run of the same key may have replaced it meanwhile.
      if (this.known.get(key) === entry) this.known.delete(key);
    };
    this.options.watchClose(run.workflowId, run.runId, this.stopped.signal).then(closed, closed);
  }
}
