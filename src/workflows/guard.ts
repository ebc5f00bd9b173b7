/**
 * The target guard (src/shared/guard.ts has the contract): one state-changing step per target at a time,
 * and the memory of recent actions behind the cooldown and the hourly budgets. A lease ends when its holder
 * releases it, or by itself when the holder stops renewing it (a run that died or was terminated). A grant
 * or a "queued" notice that cannot reach its run (it ended) frees the lease at once. The history stays
 * bounded: the guard continues as new, carrying its state, when Temporal suggests it.
 */
import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  guardStateQuery,
  leaseGrantedSignal,
  leaseProbeSignal,
  leaseQueuedSignal,
  leaseReleaseSignal,
  leaseRenewSignal,
  leaseRequestSignal,
  recentActions,
  spentLimit,
  type GuardState,
  type HeldLease,
  type LeaseHolder,
} from '../shared/guard.js';

/** Held leases count toward the fleet budget, so runs acting at once cannot pass it together. */
const BUDGET_COUNTS_HELD_LEASES = 'guard-budget-counts-held-leases';
/** An idle guard still wakes now and then to forget old actions. */
const IDLE_WAKE_MS = 3_600_000;
/** While others wait for a lease, its holder is probed this often: one that ended frees the target at once. */
const PROBE_EVERY_MS = 15_000;
/** Continue as new after this many events even if Temporal does not suggest it yet. */
const MAX_HISTORY_EVENTS = 5_000;

export async function targetGuard(carried?: GuardState): Promise<never> {
  const state: GuardState = carried ?? { leases: [], waiting: [], actions: [] };
  /** Requests told they wait, so each is told once (again when the holder changes). */
  const toldHolder = new Map<string, string>();
  /** When each lease's holder was last probed (epoch ms). */
  const probedAt = new Map<string, number>();
  let changed = true;

  setHandler(leaseRequestSignal, (request) => {
    const known =
      state.leases.some((l) => l.requestId === request.requestId) ||
      state.waiting.some((w) => w.requestId === request.requestId);
    if (known) return; // a retried activity delivered it twice
    state.waiting.push(request);
    changed = true;
  });
  setHandler(leaseRenewSignal, ({ requestId, ttlSeconds }) => {
    const lease = state.leases.find((l) => l.requestId === requestId);
    if (lease) lease.expiresAt = Date.now() + ttlSeconds * 1000;
  });
  setHandler(leaseReleaseSignal, ({ requestId, acted }) => {
    const lease = state.leases.find((l) => l.requestId === requestId);
    if (lease) {
      state.leases = state.leases.filter((l) => l !== lease);
      if (acted) state.actions.push({ target: lease.target, step: lease.step, at: Date.now() });
    }
    // A run that gave up waiting withdraws its request.
    state.waiting = state.waiting.filter((w) => w.requestId !== requestId);
    changed = true;
  });
  setHandler(guardStateQuery, () => state);

  const release = (lease: HeldLease): void => {
    state.leases = state.leases.filter((l) => l !== lease);
    changed = true;
  };

  /** Signals a run; false when it cannot be reached (it ended). */
  const tell = async (
    request: Pick<LeaseHolder, 'workflowId' | 'runId'>,
    send: (handle: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>,
  ): Promise<boolean> => {
    try {
      await send(getExternalWorkflowHandle(request.workflowId, request.runId));
      return true;
    } catch (err) {
      log.warn('lease requester unreachable', { workflowId: request.workflowId, error: String(err) });
      return false;
    }
  };

  for (;;) {
    changed = false;
    const now = Date.now();
    for (const lease of state.leases.filter((l) => l.expiresAt <= now)) {
      log.warn('lease expired: its holder stopped renewing it', { ...lease });
      release(lease);
    }
    state.actions = recentActions(state.actions, now);

    for (const request of [...state.waiting]) {
      const holder = state.leases.find((l) => l.target === request.target);
      if (holder) {
        if (toldHolder.get(request.requestId) === holder.requestId) continue;
        toldHolder.set(request.requestId, holder.requestId);
        const reached = await tell(request, (h) =>
          h.signal(leaseQueuedSignal, {
            requestId: request.requestId,
            holder: {
              workflowId: holder.workflowId,
              runId: holder.runId,
              runbook: holder.runbook,
              step: holder.step,
            },
            since: new Date(holder.grantedAt).toISOString(),
          }),
        );
        if (!reached) state.waiting = state.waiting.filter((w) => w !== request);
        continue;
      }
      state.waiting = state.waiting.filter((w) => w !== request);
      toldHolder.delete(request.requestId);
      const lease: HeldLease = {
        requestId: request.requestId,
        target: request.target,
        workflowId: request.workflowId,
        runId: request.runId,
        runbook: request.runbook,
        step: request.step,
        grantedAt: Date.now(),
        expiresAt: Date.now() + request.ttlSeconds * 1000,
      };
      // Leases held on other targets are actions going on: they count toward the fleet budget (guards
      // that decided without them, before, replay as they were).
      const inFlight = patched(BUDGET_COUNTS_HELD_LEASES) ? state.leases.length : 0;
      state.leases.push(lease);
      const overLimit = request.checkLimits
        ? spentLimit(state.actions, request.target, request.step, request.limits, Date.now(), inFlight)
        : undefined;
      const reached = await tell(request, (h) =>
        h.signal(leaseGrantedSignal, { requestId: request.requestId, ...(overLimit && { overLimit }) }),
      );
      if (!reached) release(lease);
    }

    // A holder that ended without giving its lease back (terminated, timed out) keeps others waiting until
    // the TTL: a Signal that cannot be delivered tells it has ended.
    const probeDue = (lease: HeldLease): number =>
      (probedAt.get(lease.requestId) ?? lease.grantedAt) + PROBE_EVERY_MS;
    const awaited = (lease: HeldLease): boolean => state.waiting.some((w) => w.target === lease.target);
    for (const lease of state.leases.filter(awaited)) {
      if (probeDue(lease) > Date.now()) continue;
      probedAt.set(lease.requestId, Date.now());
      if (!(await tell(lease, (h) => h.signal(leaseProbeSignal)))) {
        log.warn('lease holder ended without giving the lease back', { ...lease });
        release(lease);
      }
    }
    for (const id of probedAt.keys()) {
      if (!state.leases.some((l) => l.requestId === id)) probedAt.delete(id);
    }

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > MAX_HISTORY_EVENTS) {
      await continueAsNew<typeof targetGuard>(state);
    }
    const nextWake = Math.min(
      ...state.leases.map((l) => l.expiresAt),
      ...state.leases.filter(awaited).map(probeDue),
    );
    const waitMs = Number.isFinite(nextWake) ? Math.max(nextWake - Date.now(), 1) : IDLE_WAKE_MS;
    await condition(() => changed, waitMs);
  }
}
