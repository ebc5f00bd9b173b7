/**
 * Runbook 6, start or stop the mail server container or the relay, with approval. Input:
 * {"target": "lab", "params": {"component": "mail-server" | "relay", "action": "start" | "stop"}}.
 * A start ends with an end-to-end verification.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { verifyEndToEnd } from './end-to-end.js';
import { actions, checks, waits } from './engine/policies.js';
import { defineRunbook } from './engine/runbook.js';
import type { StepOutcome } from '../shared/types.js';
import { ERROR_TYPE } from '../shared/errors.js';

const COMPONENTS = ['mail-server', 'relay'] as const;
const ACTIONS = ['start', 'stop'] as const;

function oneOf<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw ApplicationFailure.nonRetryable(
    `params.${what} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`,
    ERROR_TYPE.validation,
  );
}

export const startStop = defineRunbook('startStop', async (rb) => {
  const component = oneOf(rb.input.params?.component, COMPONENTS, 'component');
  const action = oneOf(rb.input.params?.action, ACTIONS, 'action');
  const wantRunning = action === 'start';
  const state = (): Promise<StepOutcome<unknown>> =>
    component === 'mail-server' ? checks.mailServerState(rb.target) : checks.relayWatchdogState(rb.target);

  const before = await rb.check(`${component}-state`, state);
  if (before.ok === wantRunning) {
    return {
      verdict: 'healthy',
      cause: `${component} is already ${wantRunning ? 'running' : 'stopped'}: nothing to do`,
    };
  }
  await rb.act(
    `${action}-${component}`,
    { reason: `${action} the ${component} (now: ${before.summary})`, evidence: before.evidence },
    (onceKey): Promise<StepOutcome<unknown>> =>
      component === 'mail-server'
        ? actions.setMailServerRunning(rb.target, wantRunning, onceKey)
        : actions.setRelayRunning(rb.target, wantRunning, onceKey),
  );
  if (wantRunning) {
    // A started service needs a moment before it takes mail: wait for it rather than fail the canary.
    const ready = await rb.check(
      `${component}-ready`,
      (): Promise<StepOutcome<unknown>> =>
        component === 'mail-server'
          ? waits.waitMailServerReady(rb.target)
          : waits.waitRelayListening(rb.target),
      'wait',
    );
    if (!ready.ok) return { verdict: 'failed', cause: `${component} started but ${ready.summary}` };
  }
  const after = await rb.check(`${component}-state-after`, state);
  if (after.ok !== wantRunning)
    return { verdict: 'failed', cause: `${component} did not ${action}: ${after.summary}` };
  if (!wantRunning) return { verdict: 'fixed', cause: `${component} stopped as requested` };
  return (await verifyEndToEnd(rb))
    ? { verdict: 'fixed', cause: `${component} started and mail flows` }
    : { verdict: 'failed', cause: `${component} started but end-to-end verification failed` };
});
