/**
 * The chaos matrix: every remediation runbook against its lab fault (a scenario), times every kill point.
 * A scenario says what the lab must have seen once the run ended: each remediation exactly once (every other
 * counter must stay 0), and the verdict.
 */
import { NAMES } from '../../src/lab/settings.js';
import type { RunbookInput, Verdict } from '../../src/shared/types.js';
import type { Counts } from './lab-counters.js';

/**
 * A state-changing step: its activity and the command in it that changes the host (a regex over the argv
 * joined by spaces; not anchored to the start, so it still finds the command inside a wrapper like sh -c).
 */
export interface Action {
  step: string;
  activityType: string;
  /** Unset: the action changes the host without a host command (the Docker engine API). */
  command?: string;
}

export interface Scenario {
  name: string;
  runbook: string;
  input: RunbookInput;
  /** Injected in this order before the run (after healing them), healed after it. */
  faults: { name: string; args?: string[] }[];
  /** Steps to approve, whenever they ask. */
  approve: string[];
  verdict: Verdict;
  /** Exact counts the run must leave in the lab's logs; every counter not named (nor informational) stays 0. */
  expect: Partial<Counts>;
  /**
   * Only these counters are held to a number (default: all). A mail server container that starts runs its
   * own start script (chmods, postfix start) and cannot be read while stopped.
   */
  check?: (keyof Counts)[];
  /** Brought about after the faults: the mail server container stopped (for a start). */
  mailServerStopped?: boolean;
  actions: Action[];
  /** The activity types of a run, in order, for the step-boundary kills (activity type, occurrence). */
  steps: string[];
}

const FLOOD = '300';
const E2E = ['sendCanary', 'waitCanaryDelivered'];
const flush: Action = { step: 'flush-queue', activityType: 'flushQueue', command: '(^| )postqueue -f' };

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'queueBacklog/flood',
    runbook: 'queueBacklog',
    input: {},
    faults: [{ name: 'queue-flood', args: [FLOOD] }],
    approve: ['flush-queue'],
    verdict: 'fixed',
    expect: { flushes: 1 },
    actions: [flush],
    steps: [
      'loadTargetPlan',
      'queueSummary',
      'relayPortListening',
      'relayKeyPermissions',
      'sshToRelay',
      'relayCredentialsInSync',
      'flushQueue',
      'waitQueueDrained',
      ...E2E,
    ],
  },
  {
    name: 'queueBacklog/key-permissions',
    runbook: 'queueBacklog',
    input: {},
    faults: [{ name: 'ssh-key-perms' }],
    approve: ['fix-relay-key-permissions'],
    verdict: 'fixed',
    expect: { keyChmods: 1 },
    actions: [
      {
        step: 'fix-relay-key-permissions',
        activityType: 'fixRelayKeyPermissions',
        command: '(^| )chmod 0600',
      },
    ],
    steps: [
      'loadTargetPlan',
      'queueSummary',
      'relayPortListening',
      'relayKeyPermissions',
      'fixRelayKeyPermissions',
      'sshToRelay',
      'relayCredentialsInSync',
      ...E2E,
    ],
  },
  {
    name: 'queueBacklog/relay-credentials',
    runbook: 'queueBacklog',
    input: {},
    faults: [{ name: 'relay-auth' }],
    approve: ['sync-relay-credentials', 'flush-queue'],
    verdict: 'fixed',
    // both SASL tables (sasl_passwd and DMS's postfix-sasl-password.cf) written, one reload
    expect: { writes: 2, reloads: 1 },
    actions: [
      {
        step: 'sync-relay-credentials',
        activityType: 'syncRelayCredentials',
        // the move into place: the fixed replace script (mrb-replace <table>) that ends in that mv
        command: '(^| )mrb-replace /',
      },
    ],
    steps: [
      'loadTargetPlan',
      'queueSummary',
      'relayPortListening',
      'relayKeyPermissions',
      'sshToRelay',
      'relayCredentialsInSync',
      'syncRelayCredentials',
      ...E2E,
    ],
  },
  {
    name: 'relayUnresponsive',
    runbook: 'relayUnresponsive',
    input: {},
    faults: [{ name: 'relay-down' }],
    approve: ['restart-relay-watchdog', 'flush-queue'],
    verdict: 'fixed',
    expect: { relaySpawns: 1, flushes: 1 },
    actions: [
      {
        step: 'restart-relay-watchdog',
        activityType: 'restartRelayWatchdog',
        command: '(^| )supervisorctl restart',
      },
      flush,
    ],
    steps: [
      'loadTargetPlan',
      'relayWatchdogState',
      'relayPortListening',
      'relayAnswersSmtp',
      'relayLogs',
      'outboundDeferrals',
      'restartRelayWatchdog',
      'waitRelayListening',
      'flushQueue',
      'waitQueueDrained',
      ...E2E,
    ],
  },
  {
    name: 'inboundDeferred',
    runbook: 'inboundDeferred',
    input: {},
    faults: [{ name: 'amavis-down' }],
    approve: ['restart-amavis', 'requeue-deferred'],
    verdict: 'fixed',
    expect: { amavisSpawns: 1, requeues: 1 },
    actions: [
      { step: 'restart-amavis', activityType: 'restartProgram', command: '(^| )supervisorctl restart' },
      { step: 'requeue-deferred', activityType: 'requeueDeferred', command: '(^| )postsuper -r' },
    ],
    steps: [
      'loadTargetPlan',
      'amavisListening',
      'reinjectionService',
      'supervisorPrograms',
      'queueSummary',
      'restartProgram',
      'waitAmavisListening',
      'requeueDeferred',
      'waitQueueDrained',
      ...E2E,
    ],
  },
  ...(['hold', 'delete'] as const).map((action): Scenario => ({
    name: `queueSurgery/${action}`,
    runbook: 'queueSurgery',
    input: { params: { sender: NAMES.floodSender, action } },
    // the relay is down so the flood stays put while the run selects and acts
    faults: [{ name: 'relay-down' }, { name: 'queue-flood', args: [FLOOD] }],
    approve: [`${action}-messages`],
    verdict: 'fixed',
    expect: action === 'hold' ? { holds: 1 } : { deletes: 1 },
    actions: [
      {
        step: `${action}-messages`,
        activityType: 'applyQueueSurgery',
        command: `(^| )postsuper -${action === 'hold' ? 'h' : 'd'}`,
      },
    ],
    steps: ['loadTargetPlan', 'selectQueuedMessages', 'applyQueueSurgery', 'selectQueuedMessages'],
  })),
  {
    name: 'startStop/stop-relay',
    runbook: 'startStop',
    input: { params: { component: 'relay', action: 'stop' } },
    faults: [],
    approve: ['stop-relay'],
    verdict: 'fixed',
    expect: { relayStops: 1 },
    actions: [{ step: 'stop-relay', activityType: 'setRelayRunning', command: '(^| )supervisorctl stop' }],
    steps: ['loadTargetPlan', 'relayWatchdogState', 'setRelayRunning', 'relayWatchdogState'],
  },
  {
    name: 'startStop/start-relay',
    runbook: 'startStop',
    input: { params: { component: 'relay', action: 'start' } },
    faults: [{ name: 'relay-down' }],
    approve: ['start-relay'],
    verdict: 'fixed',
    expect: { relaySpawns: 1 },
    actions: [{ step: 'start-relay', activityType: 'setRelayRunning', command: '(^| )supervisorctl start' }],
    steps: [
      'loadTargetPlan',
      'relayWatchdogState',
      'setRelayRunning',
      'waitRelayListening',
      'relayWatchdogState',
      ...E2E,
    ],
  },
  ...(['stop', 'start'] as const).map((action): Scenario => ({
    name: `startStop/${action}-mail-server`,
    runbook: 'startStop',
    input: { params: { component: 'mail-server', action } },
    faults: [],
    mailServerStopped: action === 'start',
    approve: [`${action}-mail-server`],
    verdict: 'fixed',
    expect: action === 'start' ? { mailServerStarts: 1 } : { mailServerStops: 1 },
    check: ['mailServerStarts', 'mailServerStops', 'relaySpawns', 'relayStops'],
    // the Docker engine API, no host command: before/during/after apply to the whole activity
    actions: [{ step: `${action}-mail-server`, activityType: 'setMailServerRunning' }],
    steps: [
      'loadTargetPlan',
      'mailServerState',
      'setMailServerRunning',
      ...(action === 'start' ? ['waitMailServerReady'] : []),
      'mailServerState',
      ...(action === 'start' ? E2E : []),
    ],
  })),
];

/** Where a case kills: a worker kill point, or the Temporal server's. */
export type KillPoint =
  | { kind: 'none' }
  | { kind: 'worker'; activityType: string; occurrence: number; point: 'boundary' | 'start' }
  | {
      kind: 'worker';
      activityType: string;
      occurrence: 1;
      point: 'before' | 'during' | 'after';
      action: Action;
    }
  | { kind: 'server-approval'; step: string }
  | { kind: 'server-action'; action: Action };

export function killPointLabel(k: KillPoint): string {
  switch (k.kind) {
    case 'none':
      return 'no kill';
    case 'worker':
      if (k.point === 'boundary' || k.point === 'start') {
        const which = `${k.activityType}${k.occurrence > 1 ? ` #${k.occurrence}` : ''}`;
        return k.point === 'boundary'
          ? `worker @ step boundary before ${which}`
          : `worker @ start of ${which}`;
      }
      return `worker ${k.point} ${k.activityType} command`;
    case 'server-approval':
      return `server @ approval ${k.step}`;
    case 'server-action':
      return `server during ${k.action.activityType}`;
  }
}

/** Every kill point of a scenario: none, each step boundary, before/during/after each action, the server's. */
export function killPoints(s: Scenario): KillPoint[] {
  const seen = new Map<string, number>();
  const boundaries = s.steps.map((activityType): KillPoint => {
    const occurrence = (seen.get(activityType) ?? 0) + 1;
    seen.set(activityType, occurrence);
    return { kind: 'worker', activityType, occurrence, point: 'boundary' };
  });
  const inside = s.actions.flatMap((action) =>
    (['before', 'during', 'after'] as const).map((point): KillPoint => ({
      kind: 'worker',
      activityType: action.activityType,
      occurrence: 1,
      point,
      action,
    })),
  );
  const server: KillPoint[] = [
    { kind: 'server-approval', step: s.approve[0]! },
    { kind: 'server-action', action: s.actions[0]! },
  ];
  return [{ kind: 'none' }, ...inside, ...server, ...boundaries];
}

/** The CI sample: the kills that matter most, under 5 minutes together. */
export const SAMPLE: readonly { scenario: string; kill: (s: Scenario) => KillPoint }[] = [
  {
    scenario: 'relayUnresponsive',
    kill: (s) => ({
      kind: 'worker',
      activityType: 'restartRelayWatchdog',
      occurrence: 1,
      point: 'after',
      action: s.actions[0]!,
    }),
  },
  {
    scenario: 'queueBacklog/flood',
    kill: () => ({ kind: 'server-approval', step: 'flush-queue' }),
  },
  {
    scenario: 'startStop/stop-relay',
    kill: (s) => ({ kind: 'server-action', action: s.actions[0]! }),
  },
];
