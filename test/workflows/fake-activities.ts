/**
 * Fake activities for the runbook branch tests: the worker registers every real activity name, and each
 * call is answered from the world of the run's target (one target per test case), so many cases share one
 * worker and run at the same time. The types follow the real activities: a renamed activity, or an evidence
 * field a fake misspells, breaks compilation.
 */
import { ApplicationFailure } from '@temporalio/activity';
import * as realActivities from '../../src/activities/index.js';
import type { ActionLimits } from '../../src/shared/guard.js';
import type { StepOutcome, TargetPlan } from '../../src/shared/types.js';
import { testApprovalPlan, testLimits } from '../helpers/approval-plan.js';

type Activities = typeof realActivities;
export type ActivityName = keyof Activities;

type DeepPartial<T> = T extends readonly (infer U)[]
  ? DeepPartial<U>[]
  : T extends object
    ? { [P in keyof T]?: DeepPartial<T[P]> }
    : T;

/** A fake's answer: the real outcome shape, with only the evidence fields the runbooks read filled in. */
type FakeResult<R> = R extends StepOutcome<infer E> ? StepOutcome<DeepPartial<E>> : R;
/** What the fake of activity K answers to one call. */
export type FakeAnswer<K extends ActivityName> = FakeResult<Awaited<ReturnType<Activities[K]>>>;

/**
 * The harness answers these itself (the plan from the case's approval settings; notifications recorded;
 * lease requests go to the real target guard on the test server).
 */
type HarnessOwned = 'loadTargetPlan' | 'notify' | 'requestTargetLease';

/** Per activity: one answer for every call, or one per call in order (the last one repeats). */
export type FakeWorld = {
  [K in Exclude<ActivityName, HarnessOwned>]?: FakeAnswer<K> | readonly FakeAnswer<K>[];
};

/** The state-changing activities: a test states how often each ran; any not stated must not have run. */
export const ACTIONS = [
  'fixRelayKeyPermissions',
  'syncRelayCredentials',
  'flushQueue',
  'restartRelayWatchdog',
  'requeueDeferred',
  'restartProgram',
  'applyQueueSurgery',
  'setMailServerRunning',
  'setRelayRunning',
] as const satisfies readonly ActivityName[];
export type ActionName = (typeof ACTIONS)[number];

const RELAY = 'relay.lab.test';
const CANARY_QUEUE_ID = '4Xk2Lq0abcz';

/** A target where everything is fine: each case overrides what is broken. */
export const HEALTHY = {
  queueSummary: {
    ok: true,
    summary: '2 queued (2 deferred, 0 active, 0 on hold)',
    evidence: { messages: 2, deferralReasons: { top: [] } },
  },
  relayPortListening: {
    ok: true,
    summary: 'relay port 2526 is listening',
    evidence: { port: 2526, listening: true, listeners: [] },
  },
  relayKeyPermissions: {
    ok: true,
    summary: 'relay key /root/.ssh/id_relay is mode 0600, owned by root',
    evidence: { path: '/root/.ssh/id_relay', expectedOwner: 'root', problems: [] },
  },
  sshToRelay: {
    ok: true,
    summary: 'ssh relay echo OK works',
    evidence: { alias: 'relay', exitCode: 0, output: 'OK' },
  },
  relayCredentialsInSync: {
    ok: true,
    summary: 'the mail server sends the configured password for relayuser (1 entries)',
    evidence: {
      configured: true,
      user: 'relayuser',
      files: [{ path: '/etc/postfix/sasl_passwd', keys: [`[${RELAY}]:2526`], differing: [] }],
    },
  },
  relayWatchdogState: {
    ok: true,
    summary: 'relay program relay is RUNNING',
    evidence: { manager: 'supervisor', name: 'relay', state: 'RUNNING', detail: 'pid 42, uptime 1:00:00' },
  },
  relayAnswersSmtp: {
    ok: true,
    summary: `relay [${RELAY}]:2526 greets: 220 ${RELAY} ESMTP`,
    evidence: { connected: true, greeting: `220 ${RELAY} ESMTP`, ehloOk: true, relay: `[${RELAY}]:2526` },
  },
  relayLogs: {
    ok: true,
    summary: 'relay log: 3 lines; error log: empty',
    evidence: { log: ['started', 'listening', 'ok'], errorLog: [] },
  },
  outboundDeferrals: {
    ok: true,
    summary: `last delivery through ${RELAY} was sent`,
    evidence: { relay: RELAY, deferredInTail: 0 },
  },
  providerRelayStatus: {
    ok: true,
    summary: `provider relay [${RELAY}]:587 greets "220 ${RELAY} ESMTP"; STARTTLS TLSv1.3 (certificate Trusted by the mail server's CA store); AUTH PLAIN LOGIN`,
    evidence: {
      relay: `[${RELAY}]:587`,
      connected: true,
      greeting: `220 ${RELAY} ESMTP`,
      ehloOk: true,
      starttlsOffered: true,
      tls: 'Trusted TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)',
      authMechanisms: ['PLAIN', 'LOGIN'],
    },
  },
  providerRelayLogin: {
    ok: true,
    summary: `login to ${RELAY}:587 as relayuser works (235 2.7.0 Authentication successful)`,
    evidence: { relay: `${RELAY}:587`, checked: true, user: 'relayuser' },
  },
  amavisListening: {
    ok: true,
    summary: 'amavis listens on 10024, re-injection on 10025',
    evidence: { filter: true, reinjection: true, sockets: [] },
  },
  amavisAnswers: {
    ok: true,
    summary: 'amavis answers on 10024: 220 [127.0.0.1] ESMTP amavisd-new service ready',
    evidence: { connected: true, greeting: '220 [127.0.0.1] ESMTP amavisd-new service ready', ehloOk: true },
  },
  reinjectionService: {
    ok: true,
    summary: 'content_filter smtp-amavis:[127.0.0.1]:10024; re-injection smtpd on 127.0.0.1:10025',
    evidence: { contentFilter: 'smtp-amavis:[127.0.0.1]:10024' },
  },
  supervisorPrograms: {
    ok: true,
    summary: '14 supervisord programs running',
    evidence: { programs: [], notRunning: [] },
  },
  mailLogTail: {
    ok: true,
    summary: 'last 3 log lines: 1 sent, 0 deferred, 0 bounced',
    evidence: { lines: [], sent: 1, deferred: 0, bounced: 0, unparsed: 0 },
  },
  mailServerState: {
    ok: true,
    summary: 'container mailserver @ local docker is running',
    evidence: { kind: 'dms', where: 'container mailserver', state: 'running', running: true },
  },
  selectQueuedMessages: {
    ok: true,
    summary: 'no queued message matches sender spam@example.com (of 2 queued)',
    evidence: { matched: 0, scanned: 2, selectedAt: 1_760_000_000 },
  },
  sendCanary: {
    ok: true,
    summary: `canary accepted by mail.lab.test:587 (starttls) as ${CANARY_QUEUE_ID} in 40 ms`,
    evidence: { queueId: CANARY_QUEUE_ID, acceptanceMs: 40 },
  },
  waitCanaryDelivered: {
    ok: true,
    summary: `canary sent through ${RELAY} in 900 ms (${CANARY_QUEUE_ID} sent via ${RELAY}); no IMAP mailbox configured`,
    evidence: { expectRelay: RELAY, trace: { delivered: true, bounced: false, hops: [] }, relayLegMs: 900 },
  },
  waitQueueDrained: {
    ok: true,
    summary: 'queue drained from 40 to 0 in 10 s',
    evidence: { threshold: 5, start: 40, end: 0, waitedSeconds: 10 },
  },
  waitRelayListening: {
    ok: true,
    summary: 'relay port 2526 listens again',
    evidence: { port: 2526, listening: true },
  },
  waitAmavisListening: {
    ok: true,
    summary: 'amavis listens again',
    evidence: { filter: true, reinjection: true },
  },
  waitMailServerReady: {
    ok: true,
    summary: 'mail server takes mail (SMTP 220)',
    evidence: { kind: 'dms', running: true, state: 'running' },
  },
  fixRelayKeyPermissions: {
    ok: true,
    summary: 'set /root/.ssh/id_relay to mode 0600, owner root',
    evidence: { path: '/root/.ssh/id_relay', owner: 'root' },
  },
  syncRelayCredentials: {
    ok: true,
    summary: 'wrote the configured password for relayuser into /etc/postfix/sasl_passwd and reloaded Postfix',
    evidence: { configured: true, user: 'relayuser' },
  },
  flushQueue: {
    ok: true,
    summary: 'asked Postfix to retry all queued mail now (postqueue -f)',
    evidence: { output: '' },
  },
  restartRelayWatchdog: {
    ok: true,
    summary: 'restarted relay program relay',
    evidence: { output: 'relay: stopped\nrelay: started' },
  },
  requeueDeferred: {
    ok: true,
    summary: 'requeued deferred mail (postsuper -r ALL deferred)',
    evidence: { output: '' },
  },
  restartProgram: { ok: true, summary: 'restarted the program', evidence: {} },
  applyQueueSurgery: {
    ok: true,
    summary: 'held 3 messages (postsuper hold, 1 batches)',
    evidence: { action: 'hold', approved: 3, selected: 3, changed: 3, batches: 1 },
  },
  setMailServerRunning: { ok: true, summary: 'the mail server changed state', evidence: {} },
  setRelayRunning: { ok: true, summary: 'the relay changed state', evidence: {} },
} satisfies FakeWorld;

/** Failures several runbooks share: the closing verification and the queue drain. */
export const FAILING = {
  sendCanary: {
    ok: false,
    summary: 'submission leg failed at mail.lab.test:587 (starttls): 535 5.7.8 authentication failed',
    evidence: { queueId: '', acceptanceMs: -1 },
  },
  waitCanaryDelivered: {
    ok: false,
    summary: `relay leg broke: canary ${CANARY_QUEUE_ID} not sent through ${RELAY} within 60 s`,
    evidence: { expectRelay: RELAY, trace: { delivered: false, bounced: false, hops: [] } },
  },
  waitQueueDrained: {
    ok: false,
    summary: 'queue did not drain below 5 within 60 s: 38 queued (38 deferred, 0 active, 0 on hold)',
    evidence: { threshold: 5, start: 40, end: 38, waitedSeconds: 60 },
  },
} satisfies FakeWorld;

/** The steps of the closing end-to-end verification when the canary gets through. */
export const VERIFIED_STEPS = ['canary-accepted ok', 'canary-delivered ok'];

export interface FakeCall {
  activity: ActivityName;
  args: unknown[];
}

/** What one target (one test case) answers, and what was asked of it. */
export interface FakeTarget {
  world: FakeWorld;
  plan: TargetPlan;
  calls: FakeCall[];
}

/** The plan a run loads: tiny approval timeouts where a case lets an approval time out. */
export function fakePlan(
  target: string,
  approval: Partial<TargetPlan['approval']>,
  limits: Partial<ActionLimits> = {},
): TargetPlan {
  return {
    target,
    approval: testApprovalPlan(approval),
    limits: testLimits(limits),
  };
}

/** The target an activity call is about: the first argument, except for notifications (an event object). */
function targetOf(activity: ActivityName, args: unknown[]): unknown {
  return activity === 'notify' ? (args[0] as { target?: string } | undefined)?.target : args[0];
}

/** An activities object for Worker.create: every real activity name, answered from the targets' worlds. */
export function fakeActivities(targets: ReadonlyMap<string, FakeTarget>): Record<ActivityName, unknown> {
  const answer = (activity: ActivityName, args: unknown[]): unknown => {
    const name = targetOf(activity, args);
    const target = typeof name === 'string' ? targets.get(name) : undefined;
    if (!target) {
      throw ApplicationFailure.nonRetryable(`no fake target ${String(name)} for ${activity}`, 'FakeMissing');
    }
    const calls = target.calls.filter((c) => c.activity === activity).length;
    target.calls.push({ activity, args });
    if (activity === 'loadTargetPlan') return target.plan;
    if (activity === 'notify') return { delivered: ['test'], failed: [] };
    if (activity === 'requestTargetLease') {
      return realActivities.requestTargetLease(...(args as Parameters<Activities['requestTargetLease']>));
    }
    const fake: unknown = target.world[activity] ?? (HEALTHY as FakeWorld)[activity];
    if (fake === undefined) {
      throw ApplicationFailure.nonRetryable(`no fake answer for ${activity}`, 'FakeMissing');
    }
    return Array.isArray(fake) ? fake[Math.min(calls, fake.length - 1)] : fake;
  };
  const names = Object.keys(realActivities) as ActivityName[];
  return Object.fromEntries(
    names.map((activity) => [activity, async (...args: unknown[]) => answer(activity, args)]),
  ) as Record<ActivityName, unknown>;
}
