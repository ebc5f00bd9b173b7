/**
 * The target guard's contract: one long-lived workflow per task queue (GUARD_WORKFLOW) holds the lease of
 * every target (one state-changing step at a time per target, whatever started its run), remembers the
 * recent actions, and says when a cooldown or an hourly budget is spent. Runs reach it with Signals (the
 * first through an activity that signals-with-start it); it answers each requester with Signals. Pure data
 * and pure rules, so workflow code and everything else may import it.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

/** The guard's workflow type. A worker workflow, not a runbook (src/shared/runbooks.ts INTERNAL_WORKFLOWS). */
export const GUARD_WORKFLOW = 'targetGuard';

/** One guard per task queue: the runs of one worker fleet share it, test workers on other queues do not. */
export function guardWorkflowId(taskQueue: string): string {
  return `mrb.guard.${taskQueue}`;
}

/** The limits of a target's actions (config `limits`). */
export interface ActionLimits {
  /** After an action on a target, the same action there waits this long before it may run unattended. */
  cooldownSeconds: number;
  /** Actions on one target in any hour that may run unattended. */
  actionsPerHour: number;
  /** Actions on all targets together in any hour that may run unattended. */
  fleetActionsPerHour: number;
  /** How long a step waits for another run's lease on its target before it ends needs-human. */
  leaseWaitSeconds: number;
}

export const DEFAULT_LIMITS: ActionLimits = {
  cooldownSeconds: 300,
  actionsPerHour: 6,
  fleetActionsPerHour: 30,
  leaseWaitSeconds: 900,
};

/** Who holds (or wants) a lease, for people: "relayUnresponsive run relayUnresponsive.lab, step ...". */
export interface LeaseHolder {
  workflowId: string;
  runId: string;
  runbook: string;
  step: string;
}

export interface LeaseRequest extends LeaseHolder {
  /** Unique to the run and step attempt; a repeated request (a retried activity) is recognised by it. */
  requestId: string;
  target: string;
  /** The lease ends by itself this long after the last grant or renewal (a holder that died). */
  ttlSeconds: number;
  limits: ActionLimits;
  /** Answer, with the grant, whether a limit is spent (for a step that would run unattended). */
  checkLimits: boolean;
}

export interface LeaseGrant {
  requestId: string;
  /** Why the step may not run unattended now (a cooldown or a budget is spent); absent when it may. */
  overLimit?: string;
}

export interface LeaseQueued {
  requestId: string;
  holder: LeaseHolder;
  /** When the holder got the lease (ISO 8601). */
  since: string;
}

export interface LeaseRenewal {
  requestId: string;
  ttlSeconds: number;
}

export interface LeaseRelease {
  requestId: string;
  /** The action ran (or was tried): it counts for the cooldown and the budgets. */
  acted: boolean;
}

/** An action the guard remembers for the cooldown and the budgets. */
export interface RecentAction {
  target: string;
  step: string;
  /** Epoch milliseconds, when its lease was released. */
  at: number;
}

export interface HeldLease extends LeaseHolder {
  requestId: string;
  target: string;
  grantedAt: number;
  expiresAt: number;
}

export interface GuardState {
  leases: HeldLease[];
  /** Requests waiting for a lease, first come first served per target. */
  waiting: LeaseRequest[];
  /** Actions of the last hour. */
  actions: RecentAction[];
}

export const leaseRequestSignal = defineSignal<[LeaseRequest]>('guardLeaseRequest');
export const leaseRenewSignal = defineSignal<[LeaseRenewal]>('guardLeaseRenew');
export const leaseReleaseSignal = defineSignal<[LeaseRelease]>('guardLeaseRelease');
export const guardStateQuery = defineQuery<GuardState>('guardState');

/** Sent by the guard to the requesting run. */
export const leaseGrantedSignal = defineSignal<[LeaseGrant]>('guardLeaseGranted');
export const leaseQueuedSignal = defineSignal<[LeaseQueued]>('guardLeaseQueued');
/** Sent by the guard to a holder others wait for: when it cannot be delivered, the holder has ended. */
export const leaseProbeSignal = defineSignal('guardLeaseProbe');

const HOUR_MS = 3_600_000;

/**
 * Why `step` on `target` may not run unattended at `now`, given the actions of the last hour and the
 * leases held now on other targets (`inFlight`: each is an action going on or about to be, not yet in
 * `actions`; without them, runs acting at once on many targets, a fleet's, would all pass the fleet budget);
 * undefined when no limit is spent. The text is shown to the approver as is.
 */
export function spentLimit(
  actions: readonly RecentAction[],
  target: string,
  step: string,
  limits: ActionLimits,
  now: number,
  inFlight = 0,
): string | undefined {
  const lastHour = actions.filter((a) => now - a.at < HOUR_MS);
  const sameAction = lastHour.filter((a) => a.target === target && a.step === step);
  const latest = sameAction.reduce((max, a) => Math.max(max, a.at), -Infinity);
  const ago = Math.round((now - latest) / 1000);
  if (latest > -Infinity && ago < limits.cooldownSeconds) {
    return `cooldown: ${step} ran on ${target} ${ago} s ago; limits.cooldownSeconds is ${limits.cooldownSeconds}`;
  }
  const onTarget = lastHour.filter((a) => a.target === target).length;
  if (onTarget >= limits.actionsPerHour) {
    return `budget: ${onTarget} actions on ${target} in the last hour; limits.actionsPerHour is ${limits.actionsPerHour}`;
  }
  const fleetWide = lastHour.length + inFlight;
  if (fleetWide >= limits.fleetActionsPerHour) {
    const going = inFlight > 0 ? `, ${inFlight} of them going on now` : '';
    return `fleet budget: ${fleetWide} actions on all targets in the last hour${going}; limits.fleetActionsPerHour is ${limits.fleetActionsPerHour}`;
  }
  return undefined;
}

/** One line naming a lease's holder, for causes and the status. */
export function describeHolder(holder: LeaseHolder): string {
  return `${holder.runbook} run ${holder.workflowId} (step ${holder.step})`;
}

/** Forgets actions older than the hour the budgets look at. */
export function recentActions(actions: readonly RecentAction[], now: number): RecentAction[] {
  return actions.filter((a) => now - a.at < HOUR_MS);
}
