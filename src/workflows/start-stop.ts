/**
 * Start or stop the mail server container or the relay:
 * 1. Read its state; if it already is as asked, nothing to do.
 * 2. [approval] Start or stop it.
 * 3. After a start, wait until it is ready (takes mail, or the relay port listens).
 * 4. Read its state again; after a start, end-to-end verification.
 * Input: {"target": "lab", "params": {"component": "mail-server" | "relay", "action": "start" | "stop"}}.
 * A provider relay (no SSH in the config) cannot be started or stopped from here: the run says so and
 * hands over without touching anything.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { ERROR_TYPE } from '../shared/errors.js';
import type { StepOutcome } from '../shared/types.js';
import type { Activities } from './engine/context.js';
import { defineRunbook } from './engine/define.js';
import { PROVIDER_RELAY, skipRelaySsh, verifyEndToEnd } from './steps.js';

const COMPONENTS = ['mail-server', 'relay'] as const;
const ACTIONS = ['start', 'stop'] as const;

function oneOf<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw ApplicationFailure.nonRetryable(
    `params.${what} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`,
    ERROR_TYPE.validation,
  );
}

/** The activities for each component: its state, how to set it, how to wait until it is ready. */
const COMPONENT: Record<
  (typeof COMPONENTS)[number],
  {
    state: (a: Activities, target: string) => Promise<StepOutcome<unknown>>;
    setRunning: (
      a: Activities,
      target: string,
      running: boolean,
      onceKey: string,
    ) => Promise<StepOutcome<unknown>>;
    ready: (a: Activities, target: string) => Promise<StepOutcome<unknown>>;
  }
> = {
  'mail-server': {
    state: (a, target) => a.mailServerState(target),
    setRunning: (a, target, running, onceKey) => a.setMailServerRunning(target, running, onceKey),
    ready: (a, target) => a.waitMailServerReady(target),
  },
  relay: {
    state: (a, target) => a.relayWatchdogState(target),
    setRunning: (a, target, running, onceKey) => a.setRelayRunning(target, running, onceKey),
    ready: (a, target) => a.waitRelayListening(target),
  },
};

export const startStop = defineRunbook('startStop', async (run) => {
  const component = oneOf(run.params.component, COMPONENTS, 'component');
  const action = oneOf(run.params.action, ACTIONS, 'action');
  const wantRunning = action === 'start';
  const { state, setRunning, ready } = COMPONENT[component];

  if (component === 'relay' && run.providerRelay()) {
    skipRelaySsh(run, ['relay-state']);
    skipRelaySsh(run, [`${action}-relay`], 'action');
    run.conclude(
      'needs-human',
      `${PROVIDER_RELAY}: it cannot be ${action === 'start' ? 'started' : 'stopped'} from here; ask the provider, or change the mail server's relayhost`,
    );
  }

  const before = await run.check(`${component}-state`, (a) => state(a, run.target));
  if (before.ok === wantRunning) {
    return {
      verdict: 'healthy',
      cause: `${component} is already ${wantRunning ? 'running' : 'stopped'}: nothing to do`,
    };
  }
  await run.act(
    `${action}-${component}`,
    {
      reason: `${action} the ${component} (now: ${before.summary})`,
      touches: `the ${component} of ${run.target}: ${wantRunning ? 'it starts taking mail' : 'no mail flows through it until it is started again'}`,
      command: `${action} the ${component} (${component === 'mail-server' ? 'docker or systemd' : "the relay's service manager"})`,
      evidence: before.evidence,
      // Still needed while it is not yet as asked.
      recheck: async (a) => (await state(a, run.target)).ok !== wantRunning,
    },
    (a, onceKey) => setRunning(a, run.target, wantRunning, onceKey),
  );
  if (wantRunning) {
    // A started service needs a moment before it takes mail: wait for it rather than fail the canary.
    const isReady = await run.wait(`${component}-ready`, (a) => ready(a, run.target));
    if (!isReady.ok) return { verdict: 'failed', cause: `${component} started but ${isReady.summary}` };
  }
  const after = await run.check(`${component}-state-after`, (a) => state(a, run.target));
  if (after.ok !== wantRunning)
    return { verdict: 'failed', cause: `${component} did not ${action}: ${after.summary}` };
  if (!wantRunning) return { verdict: 'fixed', cause: `${component} stopped as requested` };
  return (await verifyEndToEnd(run)).ok
    ? { verdict: 'fixed', cause: `${component} started and mail flows` }
    : { verdict: 'failed', cause: `${component} started but end-to-end verification failed` };
});
