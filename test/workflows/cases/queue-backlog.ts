/** queueBacklog: every early end, every approval (given, refused, timed out) and every re-check skip. */
import { expect } from 'vitest';
import { approve, closingFailures, refusals, resolveThenApprove, type RunbookCase } from '../case.js';
import { FAILING, HEALTHY, VERIFIED_STEPS, type FakeAnswer } from '../fake-activities.js';

const BACKLOG: FakeAnswer<'queueSummary'> = {
  ok: false,
  summary:
    '40 queued (40 deferred, 0 active, 0 on hold), top reason: connect to relay: timeout (40) (backlog: threshold 5)',
  evidence: { messages: 40, deferralReasons: { top: [{ key: 'connect to relay: timeout', count: 40 }] } },
};
const REFUSED_BACKLOG: FakeAnswer<'queueSummary'> = {
  ok: false,
  summary: '40 queued (40 deferred), top reason: SASL authentication failed (40) (backlog: threshold 5)',
  evidence: { messages: 40, deferralReasons: { top: [{ key: 'SASL authentication failed', count: 40 }] } },
};
const REFUSED_SMALL: FakeAnswer<'queueSummary'> = {
  ok: true,
  summary: '2 queued (2 deferred), top reason: 535 5.7.8 authentication failed (2)',
  evidence: { messages: 2, deferralReasons: { top: [{ key: '535 5.7.8 authentication failed', count: 2 }] } },
};
const KEY_LOOSE: FakeAnswer<'relayKeyPermissions'> = {
  ok: false,
  summary: 'relay key /root/.ssh/id_relay is mode 0644 (group/other can read)',
  evidence: { path: '/root/.ssh/id_relay', expectedOwner: 'root', problems: ['mode 0644'] },
};
const CREDS_STALE: FakeAnswer<'relayCredentialsInSync'> = {
  ok: false,
  summary: 'the mail server sends another password for relayuser than relay.sasl.password holds',
  evidence: {
    configured: true,
    user: 'relayuser',
    files: [
      {
        path: '/etc/postfix/sasl_passwd',
        keys: ['[relay.lab.test]:2526'],
        differing: ['[relay.lab.test]:2526'],
      },
    ],
  },
};

const CHECKS = ['queue-summary ok', 'relay-port-listening ok', 'relay-key-permissions ok', 'ssh-to-relay ok'];
const CHECKS_BACKLOG = ['queue-summary problem', ...CHECKS.slice(1)];
const KEY_LOOSE_CHECKS = ['queue-summary ok', 'relay-port-listening ok', 'relay-key-permissions problem'];
const KEY_FIXED = [...KEY_LOOSE_CHECKS, 'fix-relay-key-permissions ok'];
const FLUSHED = ['flush-queue ok', 'queue-drains ok'];

export const queueBacklogCases: RunbookCase[] = [
  {
    name: 'healthy',
    expect: {
      verdict: 'healthy',
      cause: /^no backlog: 2 queued/,
      steps: [...CHECKS, 'relay-credentials ok', ...VERIFIED_STEPS],
    },
  },
  {
    name: 'no-backlog-but-canary-not-delivered',
    world: { waitCanaryDelivered: FAILING.waitCanaryDelivered },
    expect: {
      verdict: 'needs-human',
      cause: /queue is small but mail does not flow: relay leg broke/,
      steps: [...CHECKS, 'relay-credentials ok', 'canary-accepted ok', 'canary-delivered problem'],
    },
  },
  {
    name: 'no-backlog-but-canary-refused',
    world: { sendCanary: FAILING.sendCanary },
    expect: {
      verdict: 'needs-human',
      cause: /queue is small but mail does not flow: submission leg failed/,
      steps: [...CHECKS, 'relay-credentials ok', 'canary-accepted problem'],
      calls: { waitCanaryDelivered: 0 },
    },
  },
  {
    name: 'relay-port-down',
    world: {
      queueSummary: BACKLOG,
      relayPortListening: {
        ok: false,
        summary: 'relay port 2526 is not listening',
        evidence: { listening: false },
      },
    },
    expect: {
      verdict: 'needs-human',
      cause: /relay port 2526 is not listening: the relay is down, run the relayUnresponsive runbook/,
      steps: ['queue-summary problem', 'relay-port-listening problem'],
    },
  },
  {
    name: 'ssh-to-relay-fails',
    world: {
      sshToRelay: { ok: false, summary: 'ssh relay echo OK failed: Permission denied', evidence: {} },
    },
    expect: {
      verdict: 'needs-human',
      cause: /Permission denied: fix SSH from the container to the relay first/,
      steps: [...CHECKS.slice(0, 3), 'ssh-to-relay problem'],
    },
  },
  {
    name: 'key-fix-approved',
    world: { relayKeyPermissions: KEY_LOOSE },
    gates: [approve('fix-relay-key-permissions')],
    expect: {
      verdict: 'fixed',
      cause: /^relay key permissions repaired: relay key \/root\/.ssh\/id_relay is mode 0644/,
      steps: [...KEY_FIXED, 'ssh-to-relay ok', 'relay-credentials ok', ...VERIFIED_STEPS],
      actions: { fixRelayKeyPermissions: 1 },
    },
  },
  {
    // docker-mailserver: the key is a file in the container, so the approver is told the fix may not last.
    name: 'key-fix-in-container-warns-approver',
    world: {
      relayKeyPermissions: { ...KEY_LOOSE, evidence: { ...KEY_LOOSE.evidence, insideContainer: true } },
    },
    gates: [approve('fix-relay-key-permissions')],
    expect: {
      verdict: 'fixed',
      cause: /^relay key permissions repaired/,
      steps: [...KEY_FIXED, 'ssh-to-relay ok', 'relay-credentials ok', ...VERIFIED_STEPS],
      actions: { fixRelayKeyPermissions: 1 },
    },
    also: ({ calls }) => {
      const briefs = calls
        .filter((c) => c.activity === 'notify')
        .map((c) => (c.args[0] as { brief?: string } | undefined)?.brief ?? '')
        .filter(Boolean);
      expect(briefs.join('\n')).toContain(
        'Warning: this change does not survive recreating the container: /root/.ssh/id_relay is a file in the container',
      );
    },
  },
  {
    name: 'key-fix-on-a-plain-host-no-container-warning',
    world: { relayKeyPermissions: KEY_LOOSE },
    gates: [approve('fix-relay-key-permissions')],
    expect: {
      verdict: 'fixed',
      cause: /^relay key permissions repaired/,
      steps: [...KEY_FIXED, 'ssh-to-relay ok', 'relay-credentials ok', ...VERIFIED_STEPS],
      actions: { fixRelayKeyPermissions: 1 },
    },
    also: ({ calls }) => {
      const notified = calls.filter((c) => c.activity === 'notify').map((c) => JSON.stringify(c.args));
      expect(notified.join('\n')).toContain('fix-relay-key-permissions');
      expect(notified.join('\n')).not.toContain('does not survive recreating the container');
    },
  },
  ...refusals('key-fix', 'fix-relay-key-permissions', {
    world: { relayKeyPermissions: KEY_LOOSE },
    steps: KEY_LOOSE_CHECKS,
  }),
  {
    name: 'key-fix-skipped-alert-resolved',
    world: { relayKeyPermissions: [KEY_LOOSE, HEALTHY.relayKeyPermissions] },
    gates: [resolveThenApprove('fix-relay-key-permissions')],
    expect: {
      verdict: 'healthy',
      cause: /alert resolved before fix-relay-key-permissions; the re-check found the target healthy/,
      steps: [...KEY_LOOSE_CHECKS, 'fix-relay-key-permissions skipped'],
      calls: { relayKeyPermissions: 2 },
    },
  },
  {
    name: 'key-fix-alert-resolved-still-broken',
    world: { relayKeyPermissions: KEY_LOOSE },
    gates: [resolveThenApprove('fix-relay-key-permissions')],
    expect: {
      verdict: 'fixed',
      cause: /^relay key permissions repaired/,
      steps: [...KEY_FIXED, 'ssh-to-relay ok', 'relay-credentials ok', ...VERIFIED_STEPS],
      actions: { fixRelayKeyPermissions: 1 },
      calls: { relayKeyPermissions: 2 },
    },
  },
  ...refusals('key-fixed-then-flush', 'flush-queue', {
    world: { relayKeyPermissions: KEY_LOOSE, queueSummary: BACKLOG },
    approvedFirst: ['fix-relay-key-permissions'],
    steps: ['queue-summary problem', ...KEY_FIXED.slice(1), 'ssh-to-relay ok', 'relay-credentials ok'],
    actions: { fixRelayKeyPermissions: 1 },
  }),
  {
    name: 'credentials-sync-approved',
    world: { relayCredentialsInSync: CREDS_STALE },
    gates: [approve('sync-relay-credentials')],
    expect: {
      verdict: 'fixed',
      cause: /^relay credentials re-synced from the secret store: the mail server sends another password/,
      steps: [...CHECKS, 'relay-credentials problem', 'sync-relay-credentials ok', ...VERIFIED_STEPS],
      actions: { syncRelayCredentials: 1 },
    },
  },
  {
    name: 'credentials-sync-and-flush-approved',
    world: { relayCredentialsInSync: CREDS_STALE, queueSummary: REFUSED_BACKLOG },
    gates: [approve('sync-relay-credentials'), approve('flush-queue')],
    expect: {
      verdict: 'fixed',
      cause: /^relay credentials re-synced from the secret store/,
      steps: [
        ...CHECKS_BACKLOG,
        'relay-credentials problem',
        'sync-relay-credentials ok',
        ...FLUSHED,
        ...VERIFIED_STEPS,
      ],
      actions: { syncRelayCredentials: 1, flushQueue: 1 },
    },
  },
  ...refusals('credentials-sync', 'sync-relay-credentials', {
    world: { relayCredentialsInSync: CREDS_STALE, queueSummary: REFUSED_BACKLOG },
    steps: [...CHECKS_BACKLOG, 'relay-credentials problem'],
  }),
  {
    name: 'credentials-sync-skipped-alert-resolved',
    world: { relayCredentialsInSync: [CREDS_STALE, HEALTHY.relayCredentialsInSync] },
    gates: [resolveThenApprove('sync-relay-credentials')],
    expect: {
      verdict: 'healthy',
      cause: /alert resolved before sync-relay-credentials; the re-check found the target healthy/,
      steps: [...CHECKS, 'relay-credentials problem', 'sync-relay-credentials skipped'],
      calls: { relayCredentialsInSync: 2 },
    },
  },
  {
    name: 'relay-refuses-credentials-in-sync',
    world: { queueSummary: REFUSED_SMALL },
    expect: {
      verdict: 'needs-human',
      cause:
        /relay refuses the mail server's SASL credentials \(535 5.7.8 authentication failed, 2 recipients\).*a flush would not help/,
      steps: [...CHECKS, 'relay-credentials ok'],
    },
  },
  {
    name: 'backlog-flush-approved',
    world: { queueSummary: BACKLOG },
    gates: [approve('flush-queue')],
    expect: {
      verdict: 'fixed',
      cause: /^backlog cleared: 40 queued/,
      steps: [...CHECKS_BACKLOG, 'relay-credentials ok', ...FLUSHED, ...VERIFIED_STEPS],
      actions: { flushQueue: 1 },
    },
  },
  {
    name: 'backlog-flush-unattended',
    world: { queueSummary: BACKLOG },
    unattended: ['flush-queue'],
    expect: {
      verdict: 'fixed',
      cause: /^backlog cleared/,
      steps: [...CHECKS_BACKLOG, 'relay-credentials ok', ...FLUSHED, ...VERIFIED_STEPS],
      actions: { flushQueue: 1 },
    },
    also: ({ report }) =>
      expect(report?.decisions.map((d) => `${d.step} ${d.by}`)).toEqual(['flush-queue policy']),
  },
  ...refusals('backlog-flush', 'flush-queue', {
    world: { queueSummary: BACKLOG },
    steps: [...CHECKS_BACKLOG, 'relay-credentials ok'],
  }),
  {
    name: 'backlog-flush-skipped-alert-resolved',
    world: { queueSummary: [BACKLOG, HEALTHY.queueSummary] },
    gates: [resolveThenApprove('flush-queue')],
    expect: {
      verdict: 'healthy',
      cause: /alert resolved before flush-queue; the re-check found the target healthy/,
      steps: [...CHECKS_BACKLOG, 'relay-credentials ok', 'flush-queue skipped'],
      calls: { queueSummary: 2 },
    },
  },
  ...closingFailures('backlog-flushed', {
    world: { queueSummary: BACKLOG },
    gates: [approve('flush-queue')],
    steps: [...CHECKS_BACKLOG, 'relay-credentials ok', 'flush-queue ok'],
    actions: { flushQueue: 1 },
  }),
];
