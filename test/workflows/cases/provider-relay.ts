/**
 * A provider relay (SES, Mailgun, a smarthost: no SSH in the config, plan relayAccess smtp-only): every
 * runbook that would use the relay host's SSH skips those steps, says so in each skipped step and in the
 * cause, checks the relay over SMTP instead and hands over with what it saw. No relay SSH activity runs,
 * and nothing is restarted.
 */
import { expect } from 'vitest';
import type { RunbookReport } from '../../../src/shared/types.js';
import { approve, type FinishedRun, type RunbookCase } from '../case.js';
import { FAILING, HEALTHY, VERIFIED_STEPS, type ActivityName, type FakeAnswer } from '../fake-activities.js';

const PROVIDER = { relayAccess: 'smtp-only' } as const;
const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const SAID = 'the relay is a provider relay: no SSH in config';

/** The activities that reach the relay host over SSH (or the mail server's SSH to it): none may run. */
const RELAY_SSH: readonly ActivityName[] = [
  'relayWatchdogState',
  'relayPortListening',
  'relayLogs',
  'restartRelayWatchdog',
  'waitRelayListening',
  'setRelayRunning',
  'relayKeyPermissions',
  'sshToRelay',
  'fixRelayKeyPermissions',
];
const NO_RELAY_SSH = Object.fromEntries(RELAY_SSH.map((a) => [a, 0])) as Partial<
  Record<ActivityName, number>
>;

/** Every skipped step says why, in the words the hand-over uses. */
function skippedSayWhy({ report }: FinishedRun): void {
  const skipped = (report as RunbookReport).steps.filter((s) => s.verdict === 'skipped');
  expect(skipped.length).toBeGreaterThan(0);
  for (const step of skipped) expect(step.summary).toBe(`skipped: ${SAID}`);
}

const DOWN: FakeAnswer<'providerRelayStatus'> = {
  ok: false,
  summary:
    'provider relay [relay.lab.test]:587 does not answer SMTP: Failed to establish session to [relay.lab.test]:587 via 192.0.2.7:587: Connection refused',
  evidence: {
    relay: '[relay.lab.test]:587',
    connected: false,
    ehloOk: false,
    starttlsOffered: false,
    authMechanisms: [],
    problem: 'Failed to establish session to [relay.lab.test]:587 via 192.0.2.7:587: Connection refused',
  },
};
const NO_LOGIN: FakeAnswer<'providerRelayLogin'> = {
  ok: false,
  summary: 'login to relay.lab.test:587 as relayuser failed (tcp): cannot connect: ECONNREFUSED',
  evidence: { relay: 'relay.lab.test:587', checked: true, user: 'relayuser' },
};
const REFUSED_LOGIN: FakeAnswer<'providerRelayLogin'> = {
  ok: false,
  summary: 'login to relay.lab.test:587 as relayuser failed (auth): login as relayuser refused: 535 5.7.8',
  evidence: { relay: 'relay.lab.test:587', checked: true, user: 'relayuser' },
};
const LINES = [1, 2, 3, 4].map(
  (n) =>
    `2026-12-01T23:5${n}:00.000000+00:00 postfix/smtp: 4Xk2Lq0ab${n}: to=<canary@dest.test>, relay=none, delay=${n}, dsn=4.4.1, status=deferred (connect to relay.lab.test[192.0.2.7]:587: Connection refused)`,
);
const DEFERRING: FakeAnswer<'outboundDeferrals'> = {
  ok: false,
  summary:
    'last delivery through relay.lab.test was deferred: connect to relay.lab.test[192.0.2.7]:587: Connection refused',
  evidence: { relay: 'relay.lab.test', deferredInTail: 4, deferredLines: LINES },
};

const RELAY_HOST_SKIPPED = [
  'relay-watchdog-alive skipped',
  'relay-port-listening skipped',
  'relay-logs skipped',
];

export const providerRelayUnresponsiveCases: RunbookCase[] = [
  {
    name: 'provider-healthy',
    ...PROVIDER,
    expect: {
      verdict: 'healthy',
      cause: /^the provider relay answers over TLS, takes our login and mail flows$/,
      steps: [
        ...RELAY_HOST_SKIPPED,
        'provider-relay-smtp ok',
        'provider-relay-login ok',
        'outbound-deferrals ok',
        ...VERIFIED_STEPS,
      ],
      calls: NO_RELAY_SSH,
    },
    also: skippedSayWhy,
  },
  {
    name: 'provider-healthy-but-canary-not-delivered',
    ...PROVIDER,
    world: { waitCanaryDelivered: FAILING.waitCanaryDelivered },
    expect: {
      verdict: 'needs-human',
      cause: /^the provider relay looks healthy but mail does not flow: relay leg broke/,
      steps: [
        ...RELAY_HOST_SKIPPED,
        'provider-relay-smtp ok',
        'provider-relay-login ok',
        'outbound-deferrals ok',
        'canary-accepted ok',
        'canary-delivered problem',
      ],
      calls: NO_RELAY_SSH,
    },
  },
  {
    name: 'provider-down-hands-over',
    ...PROVIDER,
    world: { providerRelayStatus: DOWN, providerRelayLogin: NO_LOGIN, outboundDeferrals: DEFERRING },
    expect: {
      verdict: 'needs-human',
      cause: new RegExp(
        [
          `^${SAID}, so its service was not checked or restarted\\. Hand over to the provider`,
          'SMTP probe from the mail server: provider relay \\[relay\\.lab\\.test\\]:587 does not answer SMTP: .*Connection refused',
          'Login: login to relay\\.lab\\.test:587 as relayuser failed \\(tcp\\)',
          'Our mail log: last delivery through relay\\.lab\\.test was deferred',
          // The last three deferral lines, not the oldest.
          `Last 3 of 4 deferral lines: ${escapeRegExp(LINES[1]!)} \\| `,
        ].join('.*'),
      ),
      steps: [
        ...RELAY_HOST_SKIPPED,
        'provider-relay-smtp problem',
        'provider-relay-login problem',
        'outbound-deferrals problem',
        'restart-relay-watchdog skipped',
      ],
      calls: { ...NO_RELAY_SSH, flushQueue: 0, sendCanary: 0 },
    },
    also: (run) => {
      skippedSayWhy(run);
      expect(run.report!.cause).not.toContain(LINES[0]);
      expect(run.report!.pending).toBeUndefined();
    },
  },
  {
    name: 'provider-answers-but-refuses-login',
    ...PROVIDER,
    world: { providerRelayLogin: REFUSED_LOGIN },
    expect: {
      verdict: 'needs-human',
      cause: new RegExp(
        `^${SAID}, so its service was not checked or restarted\\..*SMTP probe from the mail server: provider relay .* AUTH PLAIN LOGIN.*Login: .*refused: 535 5\\.7\\.8.*Our mail log: last delivery through relay\\.lab\\.test was sent$`,
      ),
      steps: [
        ...RELAY_HOST_SKIPPED,
        'provider-relay-smtp ok',
        'provider-relay-login problem',
        'outbound-deferrals ok',
        'restart-relay-watchdog skipped',
      ],
      calls: NO_RELAY_SSH,
    },
  },
];

const BACKLOG: FakeAnswer<'queueSummary'> = {
  ok: false,
  summary:
    '40 queued (40 deferred, 0 active, 0 on hold), top reason: 421 throttled (40) (backlog: threshold 5)',
  evidence: { messages: 40, deferralReasons: { top: [{ key: '421 throttled', count: 40 }] } },
};
const CLIENT_SKIPPED = ['relay-key-permissions skipped', 'ssh-to-relay skipped'];

export const providerQueueBacklogCases: RunbookCase[] = [
  {
    name: 'provider-healthy',
    ...PROVIDER,
    expect: {
      verdict: 'healthy',
      cause: /^no backlog: 2 queued/,
      steps: [
        'queue-summary ok',
        'relay-port-listening skipped',
        'provider-relay-smtp ok',
        ...CLIENT_SKIPPED,
        'relay-credentials ok',
        ...VERIFIED_STEPS,
      ],
      calls: NO_RELAY_SSH,
    },
    also: skippedSayWhy,
  },
  {
    name: 'provider-down-hands-over',
    ...PROVIDER,
    world: { queueSummary: BACKLOG, providerRelayStatus: DOWN, outboundDeferrals: DEFERRING },
    expect: {
      verdict: 'needs-human',
      cause: new RegExp(
        `^${SAID}, so its port and service were not checked\\..*SMTP probe from the mail server: .*Connection refused\\. Our mail log: .*deferral lines: `,
      ),
      steps: [
        'queue-summary problem',
        'relay-port-listening skipped',
        'provider-relay-smtp problem',
        'outbound-deferrals problem',
      ],
      calls: { ...NO_RELAY_SSH, providerRelayLogin: 0 },
    },
    also: skippedSayWhy,
  },
  {
    name: 'provider-answers-backlog-flushed',
    ...PROVIDER,
    world: { queueSummary: [BACKLOG, HEALTHY.queueSummary] },
    gates: [approve('flush-queue')],
    expect: {
      verdict: 'fixed',
      cause: /^backlog cleared: 40 queued/,
      steps: [
        'queue-summary problem',
        'relay-port-listening skipped',
        'provider-relay-smtp ok',
        ...CLIENT_SKIPPED,
        'relay-credentials ok',
        'flush-queue ok',
        'queue-drains ok',
        ...VERIFIED_STEPS,
      ],
      actions: { flushQueue: 1 },
      calls: NO_RELAY_SSH,
    },
  },
];

export const providerStartStopCases: RunbookCase[] = (['start', 'stop'] as const).map((action) => ({
  name: `provider-relay-${action}-hands-over`,
  ...PROVIDER,
  params: { component: 'relay', action },
  expect: {
    verdict: 'needs-human',
    cause: new RegExp(`^${SAID}: it cannot be ${action === 'start' ? 'started' : 'stopped'} from here`),
    steps: ['relay-state skipped', `${action}-relay skipped`],
    calls: NO_RELAY_SSH,
  },
  also: skippedSayWhy,
}));

const STATUS_CHECKS = [
  'mail-server-state ok',
  'supervisor-programs ok',
  'queue-summary ok',
  'mail-log-tail ok',
];

export const statusCheckCases: RunbookCase[] = [
  {
    name: 'healthy',
    expect: {
      verdict: 'healthy',
      cause: /^container, programs, queue, mail log and relay all look healthy$/,
      steps: [...STATUS_CHECKS, 'relay-port-listening ok', 'relay-logs ok'],
    },
  },
  {
    name: 'provider-healthy',
    ...PROVIDER,
    expect: {
      verdict: 'healthy',
      cause: /^container, programs, queue, mail log and relay all look healthy$/,
      steps: [
        ...STATUS_CHECKS,
        'relay-port-listening skipped',
        'relay-logs skipped',
        'provider-relay-smtp ok',
      ],
      calls: NO_RELAY_SSH,
    },
    also: skippedSayWhy,
  },
  {
    name: 'provider-down',
    ...PROVIDER,
    world: { providerRelayStatus: DOWN },
    expect: {
      verdict: 'needs-human',
      cause: /^provider relay \[relay\.lab\.test\]:587 does not answer SMTP: .*Connection refused$/,
      steps: [
        ...STATUS_CHECKS,
        'relay-port-listening skipped',
        'relay-logs skipped',
        'provider-relay-smtp problem',
      ],
      calls: NO_RELAY_SSH,
    },
  },
];
