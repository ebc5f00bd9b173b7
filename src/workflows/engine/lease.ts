/**
 * The run's side of the target guard (src/workflows/guard.ts): asks for the target's lease before a
 * state-changing step, shows the wait in the status and the search attributes, renews the lease while the
 * action runs and gives it back afterwards, saying whether the action ran (the guard counts it for the
 * cooldown and the budgets). Read-only steps never come here.
 */
import {
  condition,
  getExternalWorkflowHandle,
  log,
  setHandler,
  workflowInfo,
  type SignalDefinition,
} from '@temporalio/workflow';
import {
  guardWorkflowId,
  leaseGrantedSignal,
  leaseProbeSignal,
  leaseQueuedSignal,
  leaseReleaseSignal,
  leaseRenewSignal,
  type ActionLimits,
  type LeaseGrant,
  type LeaseHolder,
  type LeaseQueued,
} from '../../shared/guard.js';
import { ACTIVITIES_FOR } from './policies.js';
import type { RunRecord } from './record.js';

/**
 * A lease ends by itself this long after its last renewal, so a run that died or was terminated frees its
 * target: twice the action proxy's start-to-close timeout (policies.ts), renewed every minute meanwhile.
 */
const LEASE_TTL_SECONDS = 600;
const RENEW_EVERY_MS = 60_000;

export interface HeldLease {
  requestId: string;
  /** Why the step may not run unattended (asked with checkLimits), or undefined. */
  overLimit?: string;
  /** Another run held the target first: what the step saw before may be out of date. */
  waited: boolean;
}

export type Acquired = HeldLease | { timedOut: true; holder?: LeaseHolder };

export class TargetLeases {
  private readonly granted = new Map<string, LeaseGrant>();
  private readonly queued = new Map<string, LeaseQueued>();
  private requests = 0;

  constructor(private readonly record: RunRecord) {}

  /** Setting handlers issues no command: safe for runs recorded before leases existed. */
  installHandlers(): void {
    setHandler(leaseGrantedSignal, (grant) => void this.granted.set(grant.requestId, grant));
    setHandler(leaseQueuedSignal, (queued) => void this.queued.set(queued.requestId, queued));
    // Its delivery is the answer: this run still exists.
    setHandler(leaseProbeSignal, () => undefined);
  }

  /** Waits (bounded by limits.leaseWaitSeconds) for the lease of `target` for `step`. */
  async acquire(
    target: string,
    step: string,
    runbook: string,
    limits: ActionLimits,
    checkLimits: boolean,
  ): Promise<Acquired> {
    const { workflowId, runId } = workflowInfo();
    const requestId = `${workflowId}.${runId}.${step}#${++this.requests}`;
    await ACTIVITIES_FOR.check.requestTargetLease(target, {
      requestId,
      target,
      workflowId,
      runId,
      runbook,
      step,
      ttlSeconds: LEASE_TTL_SECONDS,
      limits,
      checkLimits,
    });
    const waitUntil = Date.now() + limits.leaseWaitSeconds * 1000;
    let shown: LeaseQueued | undefined;
    for (;;) {
      const grant = this.granted.get(requestId);
      if (grant) {
        this.granted.delete(requestId);
        this.record.lease({ state: 'held', step, target, since: new Date().toISOString() });
        return { requestId, overLimit: grant.overLimit, waited: shown !== undefined };
      }
      const queued = this.queued.get(requestId);
      if (queued && queued !== shown) {
        shown = queued;
        log.info('waiting for the target: another run acts on it', { step, holder: queued.holder });
        this.record.lease({
          state: 'waiting',
          step,
          target,
          holder: queued.holder,
          since: queued.since,
          waitUntil: new Date(waitUntil).toISOString(),
        });
      }
      const remainingMs = waitUntil - Date.now();
      if (remainingMs <= 0) {
        await this.release(requestId, false);
        this.record.lease(undefined);
        return { timedOut: true, holder: shown?.holder };
      }
      await condition(() => this.granted.has(requestId) || this.queued.get(requestId) !== shown, remainingMs);
    }
  }

  /** Runs `action` holding the lease, renewing it meanwhile; gives it back after, counted as an action. */
  async holding<T>(lease: HeldLease, action: () => Promise<T>): Promise<T> {
    let done = false;
    const renewing = (async () => {
      while (!(await condition(() => done, RENEW_EVERY_MS))) {
        await this.signalGuard(leaseRenewSignal, {
          requestId: lease.requestId,
          ttlSeconds: LEASE_TTL_SECONDS,
        });
      }
    })();
    try {
      return await action();
    } finally {
      done = true;
      await renewing;
      await this.release(lease.requestId, true);
    }
  }

  /** Gives the lease (or a request still waiting) back; `acted`: the action ran and counts. */
  async release(requestId: string, acted: boolean): Promise<void> {
    await this.signalGuard(leaseReleaseSignal, { requestId, acted });
    this.record.lease(undefined);
  }

  /** The guard may be between runs (continue-as-new) or gone: a lost release only waits for the TTL. */
  private async signalGuard<A>(signal: SignalDefinition<[A]>, arg: A): Promise<void> {
    try {
      await getExternalWorkflowHandle(guardWorkflowId(workflowInfo().taskQueue)).signal(signal, arg);
    } catch (err) {
      log.warn('could not reach the target guard; the lease ends by its TTL', {
        signal: signal.name,
        error: String(err),
      });
    }
  }
}
