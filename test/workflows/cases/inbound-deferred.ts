/** inboundDeferred: every early end, every approval (given, refused, timed out) and the re-check skip. */
import { expect } from 'vitest';
import { approve, closingFailures, refusals, resolveThenApprove, type RunbookCase } from '../case.js';
import { FAILING, HEALTHY, VERIFIED_STEPS, type FakeAnswer, type FakeCall } from '../fake-activities.js';

const AMAVIS_DOWN: FakeAnswer<'amavisListening'> = {
  ok: false,
  summary: 'not listening: amavis (10024)',
  evidence: { filter: false, reinjection: true, sockets: [] },
};
const CLAMAV_DOWN: FakeAnswer<'supervisorPrograms'> = {
  ok: false,
  summary: 'not running: clamav FATAL',
  evidence: { notRunning: ['clamav'] },
};
const AMAVIS_AND_CLAMAV_DOWN: FakeAnswer<'supervisorPrograms'> = {
  ok: false,
  summary: 'not running: amavis FATAL, clamav FATAL',
  evidence: { notRunning: ['amavis', 'clamav'] },
};
const BACKLOG: FakeAnswer<'queueSummary'> = {
  ok: false,
  summary:
    '40 queued (40 deferred, 0 active, 0 on hold), top reason: connect to 127.0.0.1[127.0.0.1]:10024: Connection refused (40) (backlog: threshold 5)',
  evidence: {
    messages: 40,
    deferralReasons: {
      top: [{ key: 'connect to 127.0.0.1[127.0.0.1]:10024: Connection refused', count: 40 }],
    },
  },
};

const AMAVIS_HUNG: FakeAnswer<'amavisAnswers'> = {
  ok: false,
  summary:
    'amavis listens on 10024 but does not answer SMTP (hung): Connected to 127.0.0.1[127.0.0.1]:10024 ... timed out',
  evidence: { connected: true, ehloOk: false, problem: 'timed out' },
};

const HEALTHY_CHECKS = [
  'amavis-listening ok',
  'amavis-answers ok',
  'reinjection-service ok',
  'supervisor-programs ok',
  'queue-summary ok',
];
const AMAVIS_DOWN_CHECKS = [
  'amavis-listening problem',
  ...HEALTHY_CHECKS.slice(2, 4),
  'queue-summary problem',
];
const TWO_DOWN_CHECKS = [
  'amavis-listening problem',
  'reinjection-service ok',
  'supervisor-programs problem',
  'queue-summary problem',
];
const RESTARTED = [...AMAVIS_DOWN_CHECKS, 'restart-amavis ok', 'amavis-listening-again ok'];
const REQUEUED = ['requeue-deferred ok', 'queue-drains ok'];
const AMAVIS_DOWN_WORLD = { amavisListening: AMAVIS_DOWN, queueSummary: BACKLOG };

const restartedPrograms = (calls: readonly FakeCall[]): unknown[] =>
  calls.filter((c) => c.activity === 'restartProgram').map((c) => c.args[1]);

export const inboundDeferredCases: RunbookCase[] = [
  {
    name: 'healthy',
    expect: {
      verdict: 'healthy',
      cause: /^amavis listens, re-injection is configured, all programs run, mail flows$/,
      steps: [...HEALTHY_CHECKS, ...VERIFIED_STEPS],
    },
  },
  {
    name: 'reinjection-service-missing',
    world: {
      ...AMAVIS_DOWN_WORLD,
      reinjectionService: {
        ok: false,
        summary: 'content_filter is smtp-amavis:[127.0.0.1]:10024 but master.cf has no 127.0.0.1:10025 smtpd',
        evidence: { contentFilter: 'smtp-amavis:[127.0.0.1]:10024' },
      },
    },
    expect: {
      verdict: 'needs-human',
      cause: /master.cf has no 127.0.0.1:10025 smtpd: Postfix's master.cf must be fixed by hand$/,
      steps: [
        'amavis-listening problem',
        'reinjection-service problem',
        'supervisor-programs ok',
        'queue-summary problem',
      ],
    },
  },
  {
    name: 'all-running-yet-backlog',
    world: { queueSummary: BACKLOG },
    expect: {
      verdict: 'needs-human',
      cause: /^amavis and all programs run, yet 40 queued/,
      steps: [...HEALTHY_CHECKS.slice(0, 4), 'queue-summary problem'],
    },
  },
  {
    name: 'looks-healthy-but-canary-not-delivered',
    world: { waitCanaryDelivered: FAILING.waitCanaryDelivered },
    expect: {
      verdict: 'needs-human',
      cause: /inbound path looks healthy but mail does not flow: relay leg broke/,
      steps: [...HEALTHY_CHECKS, 'canary-accepted ok', 'canary-delivered problem'],
    },
  },
  {
    name: 'amavis-restart-and-requeue-approved',
    world: AMAVIS_DOWN_WORLD,
    gates: [approve('restart-amavis'), approve('requeue-deferred')],
    expect: {
      verdict: 'fixed',
      cause: /^inbound mail was deferred \(not listening: amavis \(10024\)\); restarted amavis and requeued$/,
      steps: [...RESTARTED, ...REQUEUED, ...VERIFIED_STEPS],
      actions: { restartProgram: 1, requeueDeferred: 1 },
    },
    also: ({ calls }) => expect(restartedPrograms(calls)).toEqual(['amavis']),
  },
  {
    name: 'amavis-hung-restart-and-requeue-approved',
    world: { amavisAnswers: AMAVIS_HUNG, queueSummary: BACKLOG },
    gates: [approve('restart-amavis'), approve('requeue-deferred')],
    expect: {
      verdict: 'fixed',
      cause: /^inbound mail was deferred \(amavis listens on 10024 but does not answer SMTP \(hung\)/,
      steps: [
        'amavis-listening ok',
        'amavis-answers problem',
        ...HEALTHY_CHECKS.slice(2, 4),
        'queue-summary problem',
        'restart-amavis ok',
        'amavis-listening-again ok',
        ...REQUEUED,
        ...VERIFIED_STEPS,
      ],
      actions: { restartProgram: 1, requeueDeferred: 1 },
    },
    also: ({ calls }) => expect(restartedPrograms(calls)).toEqual(['amavis']),
  },
  {
    name: 'two-programs-restarted',
    world: { ...AMAVIS_DOWN_WORLD, supervisorPrograms: AMAVIS_AND_CLAMAV_DOWN },
    gates: [approve('restart-amavis'), approve('restart-clamav'), approve('requeue-deferred')],
    expect: {
      verdict: 'fixed',
      cause: /restarted amavis, clamav and requeued$/,
      steps: [
        ...TWO_DOWN_CHECKS,
        'restart-amavis ok',
        'restart-clamav ok',
        'amavis-listening-again ok',
        ...REQUEUED,
        ...VERIFIED_STEPS,
      ],
      actions: { restartProgram: 2, requeueDeferred: 1 },
    },
    also: ({ calls }) => expect(restartedPrograms(calls)).toEqual(['amavis', 'clamav']),
  },
  ...refusals('second-restart', 'restart-clamav', {
    world: { ...AMAVIS_DOWN_WORLD, supervisorPrograms: AMAVIS_AND_CLAMAV_DOWN },
    approvedFirst: ['restart-amavis'],
    steps: [...TWO_DOWN_CHECKS, 'restart-amavis ok'],
    actions: { restartProgram: 1 },
  }),
  ...refusals('restart', 'restart-amavis', { world: AMAVIS_DOWN_WORLD, steps: AMAVIS_DOWN_CHECKS }),
  {
    name: 'restart-skipped-alert-resolved',
    world: { ...AMAVIS_DOWN_WORLD, amavisListening: [AMAVIS_DOWN, HEALTHY.amavisListening] },
    gates: [resolveThenApprove('restart-amavis')],
    expect: {
      verdict: 'healthy',
      cause: /alert resolved before restart-amavis; the re-check found the target healthy/,
      steps: [...AMAVIS_DOWN_CHECKS, 'restart-amavis skipped'],
      calls: { amavisListening: 2 },
    },
  },
  {
    name: 'restart-alert-resolved-still-down',
    world: AMAVIS_DOWN_WORLD,
    gates: [resolveThenApprove('restart-amavis'), approve('requeue-deferred')],
    expect: {
      verdict: 'fixed',
      cause: /restarted amavis and requeued$/,
      steps: [...RESTARTED, ...REQUEUED, ...VERIFIED_STEPS],
      actions: { restartProgram: 1, requeueDeferred: 1 },
      calls: { amavisListening: 2 },
    },
  },
  {
    name: 'clamav-down-alert-resolved-recheck',
    world: { supervisorPrograms: CLAMAV_DOWN, queueSummary: BACKLOG },
    gates: [resolveThenApprove('restart-clamav'), approve('requeue-deferred')],
    expect: {
      verdict: 'fixed',
      cause: /restarted clamav and requeued$/,
      steps: [
        'amavis-listening ok',
        'amavis-answers ok',
        'reinjection-service ok',
        'supervisor-programs problem',
        'queue-summary problem',
        'restart-clamav ok',
        'amavis-listening-again ok',
        ...REQUEUED,
        ...VERIFIED_STEPS,
      ],
      actions: { restartProgram: 1, requeueDeferred: 1 },
    },
  },
  {
    name: 'restarted-but-amavis-still-down',
    world: {
      ...AMAVIS_DOWN_WORLD,
      waitAmavisListening: { ok: false, summary: 'amavis still not listening', evidence: { filter: false } },
    },
    gates: [approve('restart-amavis')],
    expect: {
      verdict: 'needs-human',
      cause: /^restarted amavis but amavis still not listening$/,
      steps: [...AMAVIS_DOWN_CHECKS, 'restart-amavis ok', 'amavis-listening-again problem'],
      actions: { restartProgram: 1 },
    },
  },
  ...refusals('requeue', 'requeue-deferred', {
    world: AMAVIS_DOWN_WORLD,
    approvedFirst: ['restart-amavis'],
    steps: RESTARTED,
    actions: { restartProgram: 1 },
  }),
  ...closingFailures('restarted-and-requeued', {
    world: AMAVIS_DOWN_WORLD,
    gates: [approve('restart-amavis'), approve('requeue-deferred')],
    steps: [...RESTARTED, 'requeue-deferred ok'],
    actions: { restartProgram: 1, requeueDeferred: 1 },
  }),
];
