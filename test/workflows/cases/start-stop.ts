/** startStop: nothing to do, the approval (given, refused, timed out), readiness, the state after, the canary. */
import { expect } from 'vitest';
import { FAILING, HEALTHY, VERIFIED_STEPS, type FakeAnswer, type FakeCall } from '../fake-activities.js';
import { approve, refusals, type RunbookCase } from '../case.js';

const SERVER_UP = HEALTHY.mailServerState;
const SERVER_DOWN: FakeAnswer<'mailServerState'> = {
  ok: false,
  summary: 'container mailserver @ local docker is exited',
  evidence: { kind: 'dms', where: 'container mailserver', state: 'exited', running: false },
};
const RELAY_UP = HEALTHY.relayWatchdogState;
const RELAY_DOWN: FakeAnswer<'relayWatchdogState'> = {
  ok: false,
  summary: 'relay program relay is STOPPED',
  evidence: { manager: 'supervisor', name: 'relay', state: 'STOPPED', detail: 'Dec 01 14:00' },
};
const MAIL_SERVER = { component: 'mail-server' };
const RELAY = { component: 'relay' };

/** The `running` argument each call of the named action got. */
const asked =
  (action: 'setMailServerRunning' | 'setRelayRunning', running: boolean[]) =>
  ({ calls }: { calls: readonly FakeCall[] }): void =>
    expect(calls.filter((c) => c.activity === action).map((c) => c.args[1])).toEqual(running);

export const startStopCases: RunbookCase[] = [
  {
    name: 'mail-server-start-already-running',
    params: { ...MAIL_SERVER, action: 'start' },
    expect: {
      verdict: 'healthy',
      cause: /^mail-server is already running: nothing to do$/,
      steps: ['mail-server-state ok'],
    },
  },
  {
    name: 'relay-stop-already-stopped',
    params: { ...RELAY, action: 'stop' },
    world: { relayWatchdogState: RELAY_DOWN },
    expect: {
      verdict: 'healthy',
      cause: /^relay is already stopped: nothing to do$/,
      steps: ['relay-state problem'],
    },
  },
  {
    name: 'mail-server-stop-approved',
    params: { ...MAIL_SERVER, action: 'stop' },
    world: { mailServerState: [SERVER_UP, SERVER_DOWN] },
    gates: [approve('stop-mail-server')],
    expect: {
      verdict: 'fixed',
      cause: /^mail-server stopped as requested$/,
      steps: ['mail-server-state ok', 'stop-mail-server ok', 'mail-server-state-after problem'],
      actions: { setMailServerRunning: 1 },
    },
    also: asked('setMailServerRunning', [false]),
  },
  ...refusals('mail-server-stop', 'stop-mail-server', {
    params: { ...MAIL_SERVER, action: 'stop' },
    steps: ['mail-server-state ok'],
  }),
  {
    name: 'mail-server-stop-but-still-running',
    params: { ...MAIL_SERVER, action: 'stop' },
    gates: [approve('stop-mail-server')],
    expect: {
      verdict: 'failed',
      cause: /^mail-server did not stop: container mailserver @ local docker is running$/,
      steps: ['mail-server-state ok', 'stop-mail-server ok', 'mail-server-state-after ok'],
      actions: { setMailServerRunning: 1 },
    },
  },
  {
    name: 'mail-server-start-approved',
    params: { ...MAIL_SERVER, action: 'start' },
    world: { mailServerState: [SERVER_DOWN, SERVER_UP] },
    gates: [approve('start-mail-server')],
    expect: {
      verdict: 'fixed',
      cause: /^mail-server started and mail flows$/,
      steps: [
        'mail-server-state problem',
        'start-mail-server ok',
        'mail-server-ready ok',
        'mail-server-state-after ok',
        ...VERIFIED_STEPS,
      ],
      actions: { setMailServerRunning: 1 },
    },
    also: asked('setMailServerRunning', [true]),
  },
  {
    name: 'mail-server-started-but-not-ready',
    params: { ...MAIL_SERVER, action: 'start' },
    world: {
      mailServerState: SERVER_DOWN,
      waitMailServerReady: {
        ok: false,
        summary: 'mail server does not answer SMTP within 120 s',
        evidence: {},
      },
    },
    gates: [approve('start-mail-server')],
    expect: {
      verdict: 'failed',
      cause: /^mail-server started but mail server does not answer SMTP within 120 s$/,
      steps: ['mail-server-state problem', 'start-mail-server ok', 'mail-server-ready problem'],
      actions: { setMailServerRunning: 1 },
    },
  },
  {
    name: 'mail-server-start-but-still-stopped',
    params: { ...MAIL_SERVER, action: 'start' },
    world: { mailServerState: SERVER_DOWN },
    gates: [approve('start-mail-server')],
    expect: {
      verdict: 'failed',
      cause: /^mail-server did not start: container mailserver @ local docker is exited$/,
      steps: [
        'mail-server-state problem',
        'start-mail-server ok',
        'mail-server-ready ok',
        'mail-server-state-after problem',
      ],
      actions: { setMailServerRunning: 1 },
    },
  },
  {
    name: 'mail-server-started-but-canary-not-delivered',
    params: { ...MAIL_SERVER, action: 'start' },
    world: { mailServerState: [SERVER_DOWN, SERVER_UP], waitCanaryDelivered: FAILING.waitCanaryDelivered },
    gates: [approve('start-mail-server')],
    expect: {
      verdict: 'failed',
      cause: /^mail-server started but end-to-end verification failed$/,
      steps: [
        'mail-server-state problem',
        'start-mail-server ok',
        'mail-server-ready ok',
        'mail-server-state-after ok',
        'canary-accepted ok',
        'canary-delivered problem',
      ],
      actions: { setMailServerRunning: 1 },
    },
  },
  {
    name: 'relay-start-approved',
    params: { ...RELAY, action: 'start' },
    world: { relayWatchdogState: [RELAY_DOWN, RELAY_UP] },
    gates: [approve('start-relay')],
    expect: {
      verdict: 'fixed',
      cause: /^relay started and mail flows$/,
      steps: [
        'relay-state problem',
        'start-relay ok',
        'relay-ready ok',
        'relay-state-after ok',
        ...VERIFIED_STEPS,
      ],
      actions: { setRelayRunning: 1 },
      calls: { waitRelayListening: 1, waitMailServerReady: 0 },
    },
    also: asked('setRelayRunning', [true]),
  },
  {
    name: 'relay-stop-approved',
    params: { ...RELAY, action: 'stop' },
    world: { relayWatchdogState: [RELAY_UP, RELAY_DOWN] },
    gates: [approve('stop-relay')],
    expect: {
      verdict: 'fixed',
      cause: /^relay stopped as requested$/,
      steps: ['relay-state ok', 'stop-relay ok', 'relay-state-after problem'],
      actions: { setRelayRunning: 1 },
    },
    also: asked('setRelayRunning', [false]),
  },
  ...refusals('relay-start', 'start-relay', {
    params: { ...RELAY, action: 'start' },
    world: { relayWatchdogState: RELAY_DOWN },
    steps: ['relay-state problem'],
  }),
  {
    name: 'invalid-component',
    params: { component: 'database', action: 'start' },
    expect: { fails: /params.component must be one of mail-server, relay \(got "database"\)/ },
  },
];
