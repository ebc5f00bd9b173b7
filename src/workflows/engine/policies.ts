/**
 * Activity proxies with explicit timeouts and retries, one per kind of step. Runbooks take their activities
 * from here, so a new activity needs no engine change. Configuration errors are raised by activities as
 * non-retryable ApplicationFailures; transport trouble (unreachable, timeout) is retried with backoff.
 */
import { proxyActivities } from '@temporalio/workflow';
import type * as activities from '../../activities/index.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../../shared/errors.js';

type Activities = typeof activities;

const NON_RETRYABLE = NON_RETRYABLE_ERROR_TYPES;

/** Read-only checks: quick, retried a few times with backoff. */
export const checks = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 4,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** State-changing actions: each is idempotent per run (a once-marker on the host), so a retry is safe. */
export const actions = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 3,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** Long waits (queue drain, delivery): the activity polls with a bounded deadline and heartbeats. */
export const waits = proxyActivities<Activities>({
  startToCloseTimeout: '45 minutes',
  // The waits heartbeat every poll (<= 5 s): a dead worker's wait resumes elsewhere within 30 s.
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 3,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** Notifications: best effort. The engine catches their failure; it never fails a runbook. */
export const notifications = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 5 },
});
