/**
 * Activity proxies, one per kind of step, with explicit timeouts and retries. Only the engine imports this
 * file: a runbook says which kind of step it runs (check, act, wait, verify) and gets the matching proxy,
 * so the step kind and its retry policy always go together. Configuration errors are raised by activities
 * as non-retryable ApplicationFailures; transport trouble (unreachable, timeout) is retried with backoff.
 */
import { proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import type * as activities from '../../activities/index.js';
import {
  COMMAND_LIMIT_MS as LIMIT,
  onceActionBudgetMs,
  QUEUE_LIST_MAX_MS,
  SECOND,
} from '../../commands/limits.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../../shared/errors.js';
import type { StepKind, WaitLimits } from '../../shared/types.js';

export type Activities = typeof activities;

/** Exponential backoff that gives up at once on the errors no retry can cure. */
function backoff(initialInterval: string, maximumInterval: string, maximumAttempts: number): RetryPolicy {
  return {
    initialInterval,
    backoffCoefficient: 2,
    maximumInterval,
    maximumAttempts,
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  };
}

const CHECK_RETRY = backoff('2s', '30s', 4);

/** Read-only checks: quick, retried a few times with backoff. */
const quickChecks = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: CHECK_RETRY,
});

/**
 * The queue summary lists the whole queue, whose limit grows with its size (queueListLimitMs: up to an
 * hour for millions of messages), after counting it. It heartbeats throughout, so a dead worker is
 * noticed within the heartbeat timeout however long the budget, and a cancellation reaches the listing.
 */
export const QUEUE_SUMMARY_BUDGET_MS = QUEUE_LIST_MAX_MS + LIMIT.queueCount + 60 * SECOND;
const queueSummaryChecks = proxyActivities<Activities>({
  startToCloseTimeout: QUEUE_SUMMARY_BUDGET_MS,
  heartbeatTimeout: '30 seconds',
  retry: CHECK_RETRY,
});

/** Each check through the quick proxy, except the queue summary's full listing. */
const checks = new Proxy({} as Activities, {
  get(_target, name: string) {
    return (name === 'queueSummary' ? queueSummaryChecks : quickChecks)[name as keyof Activities];
  },
});

/**
 * State-changing actions: each is applied at most once per run and step (the once-key, checked on the host,
 * see src/activities/once.ts), so a retry is safe. They heartbeat every few seconds while a host command
 * runs, so a dead worker is noticed within the heartbeat timeout whatever the command's own limit; the
 * start-to-close budget of each comes from the limits of the commands it runs (src/commands/limits.ts).
 */
const ACTION_RETRY = backoff('5s', '1 minute', 3);
const ACTION_HEARTBEAT_TIMEOUT = '30 seconds';

/** SASL tables rewritten by one syncRelayCredentials: the configured map and DMS's source file, with room. */
const SASL_TABLES = 3;
/** postsuper batches the start-to-close budget of one queue surgery allows (MAX_IDS_PER_POSTSUPER each). */
const SURGERY_BATCHES = 20;

const relayControl = Math.max(LIMIT.supervisorControl, LIMIT.systemdControl, LIMIT.scheduledTask);

/** Start-to-close, in ms, of each action activity. */
export const ACTION_BUDGET_MS = {
  restartProgram: onceActionBudgetMs(LIMIT.supervisorControl),
  restartRelayWatchdog: onceActionBudgetMs(
    Math.max(LIMIT.supervisorControl, LIMIT.systemdControl, LIMIT.scheduledTaskRestart),
  ),
  setRelayRunning: onceActionBudgetMs(relayControl),
  setMailServerRunning: onceActionBudgetMs(Math.max(LIMIT.containerStop, LIMIT.systemdControl)),
  flushQueue: onceActionBudgetMs(LIMIT.queueFlush),
  requeueDeferred: onceActionBudgetMs(LIMIT.postsuper),
  fixRelayKeyPermissions: onceActionBudgetMs(LIMIT.fileChange, LIMIT.fileChange),
  syncRelayCredentials: onceActionBudgetMs(
    ...Array<number>(SASL_TABLES).fill(3 * LIMIT.fileChange + LIMIT.postfixControl),
    LIMIT.postfixControl,
  ),
  applyQueueSurgery: onceActionBudgetMs(
    LIMIT.queueList,
    ...Array<number>(SURGERY_BATCHES).fill(LIMIT.postsuper),
  ),
} as const satisfies Partial<Record<keyof Activities, number>>;

/** Any other activity run as an action step: the longest budget above. */
const DEFAULT_ACTION_BUDGET_MS = Math.max(...Object.values(ACTION_BUDGET_MS));

function actionProxy(startToCloseMs: number): Activities {
  return proxyActivities<Activities>({
    startToCloseTimeout: startToCloseMs,
    heartbeatTimeout: ACTION_HEARTBEAT_TIMEOUT,
    retry: ACTION_RETRY,
  });
}

const actionProxies = new Map<number, Activities>();
const proxyFor = (ms: number): Activities => {
  let proxy = actionProxies.get(ms);
  if (!proxy) actionProxies.set(ms, (proxy = actionProxy(ms)));
  return proxy;
};

/** Each action activity through a proxy with its own budget. */
const actions = new Proxy({} as Activities, {
  get(_target, name: string) {
    const ms = (ACTION_BUDGET_MS as Partial<Record<string, number>>)[name] ?? DEFAULT_ACTION_BUDGET_MS;
    return proxyFor(ms)[name as keyof Activities];
  },
});

/** The longest fixed deadline of a wait activity (relay listening, amavis listening, mail server ready). */
export const FIXED_WAIT_SECONDS = 180;
/** Beyond a wait's own deadline: the probes' own run time (each bounded by its command) and the last round. */
export const WAIT_MARGIN_SECONDS = 300;
/** The waits' timeout in runs recorded before the plan carried the target's wait limits. */
const LEGACY_WAIT_SECONDS = 45 * 60;

/**
 * How long a wait or verification activity may run: the longest deadline it polls to, from the target's
 * drainTimeoutSeconds and deliveryTimeoutSeconds (the canary's two legs share the delivery timeout, the
 * second gets at least 10 s more), plus a margin.
 */
export function waitTimeoutSeconds(limits: WaitLimits | undefined): number {
  if (!limits) return LEGACY_WAIT_SECONDS;
  return Math.max(FIXED_WAIT_SECONDS, limits.drainSeconds, limits.deliverySeconds + 10) + WAIT_MARGIN_SECONDS;
}

/**
 * Long waits (queue drain, relay back, delivery) and the end-to-end verification: the activity polls with a
 * bounded deadline and heartbeats at least every 5 s, so a dead worker's wait resumes elsewhere within 30 s.
 * The timeout comes from the target's limits (the run's plan); activity options are not part of replay.
 */
export function waitActivities(limits: WaitLimits | undefined): Activities {
  return proxyActivities<Activities>({
    startToCloseTimeout: `${waitTimeoutSeconds(limits)} seconds`,
    heartbeatTimeout: '30 seconds',
    retry: backoff('5s', '1 minute', 3),
  });
}

const waits = waitActivities(undefined);

/** Notifications: best effort. The engine catches their failure; it never fails a runbook. */
export const notifications = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 5 },
});

/** The proxy each kind of step runs its activities through (waits: until the run's plan gives the limits). */
export const ACTIVITIES_FOR: Record<StepKind, Activities> = {
  check: checks,
  action: actions,
  wait: waits,
  verify: waits,
};
