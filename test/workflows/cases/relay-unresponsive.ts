/** relayUnresponsive: every early end, every approval (given, refused, timed out) and the re-check skip. */
import { approve, closingFailures, refusals, resolveThenApprove, type RunbookCase } from '../case.js';
import { FAILING, HEALTHY, VERIFIED_STEPS, type FakeAnswer } from '../fake-activities.js';

const WATCHDOG_DOWN: FakeAnswer<'relayWatchdogState'> = {
  ok: false,
  summary: 'relay program relay is EXITED',
  evidence: { manager: 'supervisor', name: 'relay', state: 'EXITED', detail: 'Exited too quickly' },
};
const PORT_DOWN: FakeAnswer<'relayPortListening'> = {
  ok: false,
  summary: 'relay port 2526 is not listening',
  evidence: { port: 2526, listening: false, listeners: [] },
};
const NO_ANSWER: FakeAnswer<'relayAnswersSmtp'> = {
  ok: false,
  summary: 'relay [relay.lab.test]:2526 does not answer SMTP: Connection refused',
  evidence: { connected: false, ehloOk: false, problem: 'Connection refused' },
};
const RELAY_DOWN = {
  relayWatchdogState: WATCHDOG_DOWN,
  relayPortListening: PORT_DOWN,
  relayAnswersSmtp: NO_ANSWER,
};

const CHECKS = [
  'relay-watchdog-alive',
  'relay-port-listening',
  'relay-answers-smtp',
  'relay-logs',
  'outbound-deferrals',
];
const HEALTHY_CHECKS = CHECKS.map((s) => `${s} ok`);
const DOWN_CHECKS = [
  'relay-watchdog-alive problem',
  'relay-port-listening problem',
  'relay-answers-smtp problem',
  'relay-logs ok',
  'outbound-deferrals ok',
];
const RESTARTED = [...DOWN_CHECKS, 'restart-relay-watchdog ok', 'relay-port-listens-again ok'];

export const relayUnresponsiveCases: RunbookCase[] = [
  {
    name: 'healthy',
    expect: {
      verdict: 'healthy',
      cause: /^the relay is up, answers SMTP and mail flows$/,
      steps: [...HEALTHY_CHECKS, ...VERIFIED_STEPS],
    },
  },
  {
    name: 'looks-healthy-but-canary-not-delivered',
    world: { waitCanaryDelivered: FAILING.waitCanaryDelivered },
    expect: {
      verdict: 'needs-human',
      cause: /the relay looks healthy but mail does not flow: relay leg broke/,
      steps: [...HEALTHY_CHECKS, 'canary-accepted ok', 'canary-delivered problem'],
    },
  },
  {
    name: 'restart-and-flush-approved',
    world: RELAY_DOWN,
    gates: [approve('restart-relay-watchdog'), approve('flush-queue')],
    expect: {
      verdict: 'fixed',
      cause:
        /^relay was unresponsive \(relay program relay is EXITED; relay port 2526 is not listening; .*Connection refused\); watchdog restarted, queue flushed, mail flows$/,
      steps: [...RESTARTED, 'flush-queue ok', 'queue-drains ok', ...VERIFIED_STEPS],
      actions: { restartRelayWatchdog: 1, flushQueue: 1 },
    },
  },
  {
    name: 'deferrals-only-restart-approved',
    world: {
      outboundDeferrals: {
        ok: false,
        summary: 'last delivery through relay.lab.test was deferred: lost connection',
        evidence: { relay: 'relay.lab.test', deferredInTail: 7 },
      },
    },
    gates: [approve('restart-relay-watchdog'), approve('flush-queue')],
    expect: {
      verdict: 'fixed',
      cause: /^relay was unresponsive \(last delivery through relay.lab.test was deferred: lost connection\)/,
      steps: [
        ...HEALTHY_CHECKS.slice(0, 4),
        'outbound-deferrals problem',
        'restart-relay-watchdog ok',
        'relay-port-listens-again ok',
        'flush-queue ok',
        'queue-drains ok',
        ...VERIFIED_STEPS,
      ],
      actions: { restartRelayWatchdog: 1, flushQueue: 1 },
    },
  },
  ...refusals('restart', 'restart-relay-watchdog', { world: RELAY_DOWN, steps: DOWN_CHECKS }),
  {
    name: 'restart-skipped-alert-resolved',
    world: {
      relayWatchdogState: [WATCHDOG_DOWN, HEALTHY.relayWatchdogState],
      relayPortListening: [PORT_DOWN, HEALTHY.relayPortListening],
      relayAnswersSmtp: [NO_ANSWER, HEALTHY.relayAnswersSmtp],
    },
    gates: [resolveThenApprove('restart-relay-watchdog')],
    expect: {
      verdict: 'healthy',
      cause: /alert resolved before restart-relay-watchdog; the re-check found the target healthy/,
      steps: [...DOWN_CHECKS, 'restart-relay-watchdog skipped'],
      calls: { relayAnswersSmtp: 2 },
    },
  },
  {
    name: 'restart-alert-resolved-still-down',
    world: RELAY_DOWN,
    gates: [resolveThenApprove('restart-relay-watchdog'), approve('flush-queue')],
    expect: {
      verdict: 'fixed',
      cause: /watchdog restarted, queue flushed, mail flows$/,
      steps: [...RESTARTED, 'flush-queue ok', 'queue-drains ok', ...VERIFIED_STEPS],
      actions: { restartRelayWatchdog: 1, flushQueue: 1 },
      // The re-check stops at the first finding that still fails: the watchdog.
      calls: { relayWatchdogState: 2, relayAnswersSmtp: 1 },
    },
  },
  {
    name: 'restarted-but-port-stays-closed',
    world: {
      ...RELAY_DOWN,
      waitRelayListening: {
        ok: false,
        summary: 'relay port 2526 still not listening after 120 s',
        evidence: {},
      },
    },
    gates: [approve('restart-relay-watchdog')],
    expect: {
      verdict: 'needs-human',
      cause: /^restarted the watchdog but relay port 2526 still not listening/,
      steps: [...DOWN_CHECKS, 'restart-relay-watchdog ok', 'relay-port-listens-again problem'],
      actions: { restartRelayWatchdog: 1 },
    },
  },
  ...refusals('flush', 'flush-queue', {
    world: RELAY_DOWN,
    approvedFirst: ['restart-relay-watchdog'],
    steps: RESTARTED,
    actions: { restartRelayWatchdog: 1 },
  }),
  {
    // Once the run has changed something (the restart), a resolved alert no longer stops it: it flushes and verifies.
    name: 'flush-alert-resolved-no-recheck',
    world: RELAY_DOWN,
    gates: [approve('restart-relay-watchdog'), resolveThenApprove('flush-queue')],
    expect: {
      verdict: 'fixed',
      cause: /watchdog restarted, queue flushed, mail flows$/,
      steps: [...RESTARTED, 'flush-queue ok', 'queue-drains ok', ...VERIFIED_STEPS],
      actions: { restartRelayWatchdog: 1, flushQueue: 1 },
    },
  },
  ...closingFailures('restarted-and-flushed', {
    world: RELAY_DOWN,
    gates: [approve('restart-relay-watchdog'), approve('flush-queue')],
    steps: [...RESTARTED, 'flush-queue ok'],
    actions: { restartRelayWatchdog: 1, flushQueue: 1 },
  }),
];
