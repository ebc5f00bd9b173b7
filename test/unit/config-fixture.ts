/** A valid config using every variant (socket/ssh engines, postfix, windows relay), and ways to break it. */
import { parse, stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config/load.js';

export const FP = {
  a: 'SHA256:nfqsTI/LbW+/V/ownkD8ZegOqiizNvAJIiJokEwNXd4',
  b: 'SHA256:HU7v8uffI0RY1qgNO3quHtEFHHSjKY7Q3/BOkVnA+7k',
  c: 'SHA256:I9VlANiFS+CUn+rN+EnvrQLEeXddO0OdUKUBkezqR9M',
};

/** Approvers' public key lines (public halves only; the private halves were thrown away). */
export const PUBLIC_KEYS = {
  alice: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINyoYygbpXC7zqFX7YjrmLtYegd2RtBGUJai9uyKcvu3 alice@laptop',
  bob: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN876PIst6ajlxXX2g+otnecb+fW3NtIuuQbSUIyufKt bob@laptop',
};

export const FULL = `version: 1
defaultTarget: lab
targets:
  - name: lab
    mailServer:
      kind: dms
      docker:
        engine: { type: socket, socketPath: /var/run/docker.sock }
        container: mailserver
      mailLog: /var/log/mail/mail.log
      relayClient:
        keyPath: /home/cloudrelay/.ssh/id_rsa
        keyOwner: root
        sshConfig: /home/cloudrelay/.ssh/config
        hostAlias: cloudrelay
    relay:
      flavour: linux
      ssh:
        host: 127.0.0.1
        port: 2222
        user: relayadmin
        privateKey: { file: keys/relay_admin_ed25519 }
        hostKey: '${FP.a}'
      port: 2526
      service: { manager: supervisor, name: smtp-relay }
      logs: { log: /var/log/smtp-relay/relay.log, errorLog: /var/log/smtp-relay/relay.err.log }
    canary:
      submission:
        host: 127.0.0.1
        port: 587
        tls: starttls
        ca: { file: ca.crt }
        servername: mail.lab.test
        user: canary@lab.test
        password: { env: MRB_TEST_CANARY_PASSWORD }
      from: canary@lab.test
      to: canary@dest.test
      expectRelay: relay.lab.test
      imap:
        host: ::1
        port: 1993
        tls: implicit
        user: canary@dest.test
        password: { env: MRB_TEST_DEST_PASSWORD }
    thresholds: { queueDrainBelow: 5, drainTimeoutSeconds: 600, deliveryTimeoutSeconds: 120, logTailLines: 50 }
    approval:
      timeoutSeconds: 3600
      reminderAfterSeconds: 900
      onTimeout: abort
      unattended: [flush-queue]
      approvers: [carol, 'group:oncall']
      escalateAfterSeconds: 1800
      escalateTo: [carol]
      proceedOnTimeout: [requeue-deferred]
      steps:
        delete-messages: { minApprovals: 2, allowUnsigned: false }
  - name: edge
    mailServer:
      kind: postfix
      ssh: { host: mx1.example.org, user: ops, privateKey: { env: MRB_TEST_MX_KEY }, hostKey: '${FP.b}' }
    relay:
      flavour: windows
      ssh: { host: 192.0.2.10, port: 22, user: Administrator, privateKey: { file: /etc/mrb/relay }, hostKey: '${FP.c}' }
      service: { manager: scheduled-task, name: Relay Watchdog, process: python }
      logs: { log: 'C:\\relay\\relay.log', errorLog: 'C:\\relay\\relay.err.log' }
    canary:
      submission: { host: mx1.example.org, port: 465, tls: implicit, user: canary, password: { env: MRB_TEST_EDGE_PASSWORD } }
      from: canary@example.org
      to: canary@example.net
      expectRelay: 192.0.2.10
  - name: remote
    mailServer:
      kind: dms
      docker:
        engine: { type: ssh, host: docker.example.org, user: deploy, privateKey: { file: /etc/mrb/docker }, hostKey: '${FP.a}' }
        container: mailserver
    relay:
      flavour: linux
      ssh: { host: relay.example.org, user: relayadmin, privateKey: { file: /etc/mrb/relay }, hostKey: '${FP.b}' }
      service: { manager: systemd, name: smtp-relay.service }
      logs: { log: /var/log/smtp-relay/relay.log }
    canary:
      submission: { host: docker.example.org, tls: starttls, user: canary, password: { env: MRB_TEST_EDGE_PASSWORD } }
      from: canary@example.org
      to: canary@example.net
      expectRelay: relay.example.org
approvers:
  alice: { publicKeys: ['${PUBLIC_KEYS.alice}'] }
  bob: { publicKeys: ['${PUBLIC_KEYS.bob}'] }
  carol: {}
approverGroups:
  oncall: [alice, bob]
notifications:
  webhook: { url: { env: MRB_TEST_WEBHOOK } }
  email:
    smtp: { host: 127.0.0.1, port: 25, tls: none }
    from: mail-runbooks@ops.test
    to: [oncall@ops.test]
  uiBaseUrl: http://127.0.0.1:8233
alerts:
  listen: { host: 127.0.0.1, port: 9095 }
  auth: { bearerToken: { env: MRB_TEST_ALERT_TOKEN }, basic: { user: alertmanager, password: { file: alert.pw } } }
  routes:
    - match: { alertname: PostfixQueueBacklog }
      runbook: queueBacklog
      targetLabel: instance
    - match: { alertname: RelayDown, severity: page }
      runbook: relayUnresponsive
      target: edge
schedules:
  - name: nightly-e2e
    runbook: endToEndVerification
    cron: '30 2 * * *'
    timezone: Europe/Paris
    jitterSeconds: 300
    targets: [lab, edge]
  - name: hourly-status
    runbook: statusCheck
    cron: '@hourly'
    targets: [remote]
`;

/** The fixture as plain data, to change one thing and serialize again. */
export function fullRaw(): unknown {
  return parse(FULL) as unknown;
}

function container(node: unknown, key: string): Record<string, unknown> {
  if (typeof node !== 'object' || node === null) throw new Error(`fixture has no ${key}`);
  return node as Record<string, unknown>;
}

/** Sets (or with `undefined`, deletes) the value at a dotted path such as `targets.0.relay.ssh.port`. */
export function edit(raw: unknown, path: string, value: unknown): unknown {
  const keys = path.split('.');
  const last = keys.pop() ?? '';
  const parent = keys.reduce<unknown>((node, key) => container(node, key)[key], raw);
  const target = container(parent, last);
  if (value === undefined) delete target[last];
  else target[last] = value;
  return raw;
}

/** The problem lines for a config text, or [] when it is valid. */
export function problemsOf(text: string, file = 'test.yaml'): string[] {
  try {
    parseConfig(text, file);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
}

/** Problem lines after one edit of the valid fixture. */
export function problemsAfter(path: string, value: unknown): string[] {
  return problemsOf(stringify(edit(fullRaw(), path, value)));
}
