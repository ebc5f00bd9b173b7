/** Config validation and loading: the valid fixture passes; each mistake gets its own precise line. */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, loadConfig, parseConfig, resolveConfigPath } from '../../src/config/load.js';
import { INLINE_SECRET, RUNBOOK_NAMES, isProviderRelay, providerRelayTls } from '../../src/config/schema.js';
import { describeTarget } from '../../src/config/check.js';
import { listSecretRefs } from '../../src/config/secrets.js';
import { FP, FULL, PUBLIC_KEYS, edit, fullRaw, problemsAfter, problemsOf } from './config-fixture.js';
import { generateSshKeyPair } from '../../src/transports/ssh-keygen.js';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Exactly one line for `path` (with a position) that contains `fragment`. */
function expectProblem(lines: string[], path: string, fragment: string): void {
  const forPath = lines.filter((l) => new RegExp(`^test\\.yaml:\\d+:\\d+: ${escape(path)}: `).test(l));
  expect(forPath, `no problem at ${path} in:\n${lines.join('\n')}`).not.toHaveLength(0);
  expect(forPath.join('\n')).toContain(fragment);
}

describe('a valid config', () => {
  it('passes, with defaults filled in', () => {
    const config = parseConfig(FULL, 'test.yaml');
    expect(config.targets.map((t) => t.name)).toEqual(['lab', 'edge', 'remote']);
    const edge = config.targets[1];
    expect(edge?.mailServer).toMatchObject({
      kind: 'postfix',
      mailLog: '/var/log/mail.log',
      ssh: { port: 22 },
    });
    expect(edge?.relay).toMatchObject({ flavour: 'windows', port: 2526, service: { process: 'python' } });
    expect(edge?.approval).toEqual({
      timeoutSeconds: 3600,
      reminderAfterSeconds: 900,
      escalateAfterSeconds: 0,
      escalateTo: [],
      onTimeout: 'abort',
      proceedOnTimeout: [],
      unattended: [],
      approvers: [],
      minApprovals: 1,
      fourEyes: true,
      allowUnsigned: false,
      steps: {},
    });
    expect(config.targets[0]?.approval).toMatchObject({
      approvers: ['carol', 'group:oncall'],
      steps: { 'delete-messages': { minApprovals: 2, allowUnsigned: false } },
    });
    expect(config.approvers).toEqual({
      alice: { publicKeys: [PUBLIC_KEYS.alice] },
      bob: { publicKeys: [PUBLIC_KEYS.bob] },
      carol: {},
    });
    expect(config.approverGroups).toEqual({ oncall: ['alice', 'bob'] });
    expect(config.targets[2]?.canary.submission.port).toBe(587);
    expect(config.schedules[1]).toMatchObject({ timezone: 'UTC', jitterSeconds: 0 });
    expect(config.alerts?.routes[1]).toEqual({
      match: { alertname: 'RelayDown', severity: 'page' },
      runbook: 'relayUnresponsive',
      target: 'edge',
    });
  });

  it('exports the runbook names routes and schedules may use', () => {
    expect(RUNBOOK_NAMES).toEqual([
      'statusCheck',
      'queueBacklog',
      'relayUnresponsive',
      'inboundDeferred',
      'endToEndVerification',
      'startStop',
      'openRelayAudit',
      'queueSurgery',
      'relayRoutingCheck',
      'smtpPathDiagnosis',
    ]);
  });

  it('accepts a Docker engine over TCP with TLS material', () => {
    const raw = edit(fullRaw(), 'targets.0.mailServer.docker.engine', {
      type: 'tcp',
      host: 'docker.example.org',
      tls: {
        ca: { file: '/etc/mrb/ca.pem' },
        cert: { file: '/etc/mrb/cert.pem' },
        key: { env: 'MRB_DOCKER_KEY' },
      },
    });
    expect(problemsOf(stringify(raw))).toEqual([]);
  });

  it('takes 0 as "off" for the reminder and the escalation', () => {
    let raw = edit(fullRaw(), 'targets.0.approval.reminderAfterSeconds', 0);
    raw = edit(raw, 'targets.0.approval.escalateAfterSeconds', 0);
    expect(problemsOf(stringify(raw))).toEqual([]);
  });

  it('accepts approver tokens and a receiver key as secret references', () => {
    let raw = edit(fullRaw(), 'approvers.carol.token', { env: 'MRB_TOKEN_CAROL' });
    raw = edit(raw, 'targets.0.approval.receiverKey', { file: 'keys/approval_receiver' });
    const config = parseConfig(stringify(raw), 'test.yaml');
    const paths = listSecretRefs(config).map((r) => r.path.join('.'));
    expect(paths).toContain('approvers.carol.token');
    expect(paths).toContain('targets.0.approval.receiverKey');
  });

  it('loads docs/config.example.yaml', async () => {
    const config = await loadConfig('docs/config.example.yaml');
    expect(config.defaultTarget).toBe('lab');
    const relay = config.targets[0]?.relay;
    expect(relay && 'ssh' in relay ? relay.ssh.hostKey : undefined).toMatch(/^SHA256:/);
  });
});

describe('each mistake is reported at its path with a precise message', () => {
  const cases: [string, string, unknown, string, string][] = [
    ['missing targets', 'targets', undefined, 'targets', 'missing (required)'],
    ['empty targets', 'targets', [], 'targets', 'must list at least one target'],
    [
      'unknown defaultTarget',
      'defaultTarget',
      'prod',
      'defaultTarget',
      '"prod" is not a target name; targets: lab, edge, remote',
    ],
    [
      'unknown flavour',
      'targets.0.relay.flavour',
      'solaris',
      'targets.lab.relay.flavour',
      'unknown flavour "solaris"; expected "linux" or "windows"',
    ],
    [
      'port 0',
      'targets.0.relay.ssh.port',
      0,
      'targets.lab.relay.ssh.port',
      'must be a port number 1-65535, got 0',
    ],
    [
      'port 70000',
      'alerts.listen.port',
      70000,
      'alerts.listen.port',
      'must be a port number 1-65535, got 70000',
    ],
    [
      'port as text',
      'targets.0.relay.port',
      '2526',
      'targets.lab.relay.port',
      'must be a port number 1-65535, got text "2526"',
    ],
    [
      'secret given inline',
      'targets.0.canary.submission.password',
      'hunter2',
      'targets.lab.canary.submission.password',
      INLINE_SECRET,
    ],
    ['secret as a number', 'alerts.auth.bearerToken', 12345, 'alerts.auth.bearerToken', INLINE_SECRET],
    [
      'secret with env and file',
      'targets.1.relay.ssh.privateKey',
      { env: 'A', file: '/a' },
      'targets.edge.relay.ssh.privateKey',
      'give either env or file, not both',
    ],
    [
      'bad env name',
      'targets.0.canary.submission.password',
      { env: 'MY-PASS' },
      'targets.lab.canary.submission.password.env',
      '"MY-PASS" is not a valid environment variable name',
    ],
    [
      'bad fingerprint',
      'targets.0.relay.ssh.hostKey',
      'SHA256:abc',
      'targets.lab.relay.ssh.hostKey',
      'is not an OpenSSH host key fingerprint',
    ],
    [
      'MD5 fingerprint',
      'targets.0.relay.ssh.hostKey',
      '16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48',
      'targets.lab.relay.ssh.hostKey',
      'expected "SHA256:" and 43 base64 characters',
    ],
    [
      'mistyped fingerprint',
      'targets.0.relay.ssh.hostKey',
      `${FP.a.slice(0, -1)}5`,
      'targets.lab.relay.ssh.hostKey',
      'last character mistyped?',
    ],
    [
      'duplicate target name',
      'targets.1.name',
      'lab',
      'targets[1].name',
      'duplicate name "lab" (also targets[0])',
    ],
    [
      'unknown key (typo)',
      'targets.0.relay.ssh.prot',
      22,
      'targets.lab.relay.ssh.prot',
      'unknown key "prot"; did you mean "port"?',
    ],
    [
      'unknown top-level key',
      'schedule',
      [],
      'schedule',
      'unknown key "schedule"; did you mean "schedules"?',
    ],
    [
      'bad tls mode',
      'targets.0.canary.submission.tls',
      'ssl',
      'targets.lab.canary.submission.tls',
      'must be "starttls" or "implicit", got "ssl"',
    ],
    ['missing canary', 'targets.0.canary', undefined, 'targets.lab.canary', 'missing (required)'],
    [
      'shell metacharacters in container',
      'targets.0.mailServer.docker.container',
      'mail;rm -rf',
      'targets.lab.mailServer.docker.container',
      '"mail;rm -rf" is not a valid container name',
    ],
    [
      'option-like service name',
      'targets.2.relay.service.name',
      '--help',
      'targets.remote.relay.service.name',
      'is not a valid service name',
    ],
    [
      'relative path in the container',
      'targets.0.mailServer.mailLog',
      'var/log/mail.log',
      'targets.lab.mailServer.mailLog',
      '"var/log/mail.log" must be an absolute path (starting with /)',
    ],
    [
      '.. in a path',
      'targets.0.relay.logs.log',
      '/var/log/../../etc/shadow',
      'targets.lab.relay.logs.log',
      'must not contain ".." segments',
    ],
    [
      'posix path on windows relay',
      'targets.1.relay.logs.log',
      '/var/log/relay.log',
      'targets.edge.relay.logs.log',
      'must be an absolute Windows path',
    ],
    [
      'route with unknown runbook',
      'alerts.routes.0.runbook',
      'fixEverything',
      'alerts.routes[0].runbook',
      'unknown runbook "fixEverything"; one of: statusCheck,',
    ],
    [
      'route with unknown target',
      'alerts.routes.1.target',
      'prod',
      'alerts.routes[1].target',
      '"prod" is not a target name',
    ],
    [
      'route with target and targetLabel',
      'alerts.routes.1.targetLabel',
      'instance',
      'alerts.routes[1].targetLabel',
      'give target or targetLabel, not both',
    ],
    [
      'route matching nothing',
      'alerts.routes.0.match',
      {},
      'alerts.routes[0].match',
      'must name at least one label',
    ],
    [
      'bad label name in a route',
      'alerts.routes.0.match',
      { 'bad-label': 'x' },
      'alerts.routes[0].match.bad-label',
      '"bad-label" is not a valid Prometheus label name',
    ],
    ['unauthenticated receiver', 'alerts.auth', {}, 'alerts.auth', 'the receiver must authenticate callers'],
    [
      'invalid cron (range)',
      'schedules.0.cron',
      '61 2 * * *',
      'schedules.nightly-e2e.cron',
      'invalid cron "61 2 * * *": minute 61 is outside 0-59',
    ],
    [
      'invalid cron (fields)',
      'schedules.0.cron',
      '30 2 * *',
      'schedules.nightly-e2e.cron',
      'has 4 field(s); expected 5',
    ],
    [
      'invalid time zone',
      'schedules.0.timezone',
      'Mars/Olympus',
      'schedules.nightly-e2e.timezone',
      '"Mars/Olympus" is not an IANA time zone',
    ],
    [
      'schedule on unknown target',
      'schedules.1.targets',
      ['remote', 'nope'],
      'schedules.hourly-status.targets[1]',
      '"nope" is not a target name',
    ],
    [
      'schedule targets neither a list nor a selection',
      'schedules.1.targets',
      'everything',
      'schedules.hourly-status.targets',
      '"everything" is not a target selection: use all, label=<key>=<value>, or a list of target names',
    ],
    [
      'schedule selecting a label no target has',
      'schedules.1.targets',
      'label=site=mars',
      'schedules.hourly-status.targets',
      'no target has the label site=mars; labels in the config: (none)',
    ],
    [
      'schedule fleet with no run at a time',
      'schedules.1.maxConcurrent',
      0,
      'schedules.hourly-status.maxConcurrent',
      'must be',
    ],
    [
      'windows relay under systemd',
      'targets.1.relay.service.manager',
      'systemd',
      'targets.edge.relay.service.manager',
      'must be "scheduled-task", got "systemd"',
    ],
    [
      'unknown mail server kind',
      'targets.0.mailServer.kind',
      'exim',
      'targets.lab.mailServer.kind',
      'unknown kind "exim"; expected "dms" or "postfix"',
    ],
    [
      'plain TCP Docker engine',
      'targets.0.mailServer.docker.engine',
      { type: 'tcp', host: '10.0.0.5' },
      'targets.lab.mailServer.docker.engine.tls',
      'missing (required)',
    ],
    [
      'bad hostname',
      'targets.0.relay.ssh.host',
      'relay..example',
      'targets.lab.relay.ssh.host',
      '"relay..example" is not a hostname or IP address',
    ],
    [
      'bad IPv4',
      'targets.0.relay.ssh.host',
      '300.1.1.1',
      'targets.lab.relay.ssh.host',
      'is not a hostname or IP address',
    ],
    [
      'bad mail address',
      'targets.0.canary.to',
      'canary at dest',
      'targets.lab.canary.to',
      'is not a mail address',
    ],
    [
      'reminder after the timeout',
      'targets.0.approval.reminderAfterSeconds',
      7200,
      'targets.lab.approval.reminderAfterSeconds',
      'reminderAfterSeconds must be less than timeoutSeconds (or 0: no reminder)',
    ],
    [
      'bad unattended step',
      'targets.0.approval.unattended',
      ['Flush Queue'],
      'targets.lab.approval.unattended[0]',
      'is not a valid step name',
    ],
    [
      'unencrypted remote SMTP',
      'notifications.email.smtp.host',
      'smtp.example.org',
      'notifications.email.smtp.tls',
      'tls none is allowed only for a loopback host',
    ],
    [
      'audit host without a port',
      'targets.0.audit',
      { smtpHost: 'mail.example.org' },
      'targets.lab.audit.smtpPort',
      'smtpHost needs smtpPort',
    ],
    [
      'relative relay map file',
      'targets.0.mailServer.relayMapFiles',
      ['relayhost_map'],
      'targets.lab.mailServer.relayMapFiles[0]',
      'must be an absolute path',
    ],
    [
      'DNS server given as a name',
      'targets.0.diagnosis',
      { dnsServers: ['dns.example.org:53'] },
      'targets.lab.diagnosis.dnsServers[0]',
      'is not an IPv4 address with an optional :port',
    ],
    [
      'DNS server port out of range',
      'targets.0.diagnosis',
      { dnsServers: ['192.0.2.53:70000'] },
      'targets.lab.diagnosis.dnsServers[0]',
      'is not an IPv4 address with an optional :port',
    ],
    [
      'DKIM selector with a space',
      'targets.0.diagnosis',
      { dkimSelectors: ['my selector'] },
      'targets.lab.diagnosis.dkimSelectors[0]',
      'is not a DKIM selector',
    ],
    [
      'unknown approver in a policy',
      'targets.0.approval.approvers',
      ['carol', 'dave'],
      'targets.lab.approval.approvers[1]',
      '"dave" is not an approver; approvers: alice, bob, carol',
    ],
    [
      'approver named like an object member',
      'targets.0.approval.approvers',
      ['constructor'],
      'targets.lab.approval.approvers[0]',
      '"constructor" is not an approver',
    ],
    [
      'unknown approver group',
      'targets.0.approval.approvers',
      ['group:ops'],
      'targets.lab.approval.approvers[0]',
      '"ops" is not an approver group; approverGroups: oncall',
    ],
    [
      'unknown approver to escalate to',
      'targets.0.approval.escalateTo',
      ['erin'],
      'targets.lab.approval.escalateTo[0]',
      '"erin" is not an approver',
    ],
    [
      'unknown approver in a step override',
      'targets.0.approval.steps',
      { 'delete-messages': { approvers: ['group:admins'] } },
      'targets.lab.approval.steps.delete-messages.approvers[0]',
      '"admins" is not an approver group',
    ],
    [
      'group naming an unknown approver',
      'approverGroups.oncall',
      ['alice', 'dave'],
      'approverGroups.oncall[1]',
      '"dave" is not an approver; approvers: alice, bob, carol',
    ],
    [
      'empty approver group',
      'approverGroups.oncall',
      [],
      'approverGroups.oncall',
      'must list at least one approver',
    ],
    [
      'quorum larger than the approvers named',
      'targets.0.approval.minApprovals',
      4,
      'targets.lab.approval.minApprovals',
      'minApprovals 4 is more than the 3 approver(s) named (carol, alice, bob): the quorum could never be met',
    ],
    [
      'step quorum larger than the approvers named',
      'targets.0.approval.steps',
      { 'delete-messages': { approvers: ['group:oncall'], minApprovals: 3 } },
      'targets.lab.approval.steps.delete-messages.minApprovals',
      'minApprovals 3 is more than the 2 approver(s) named (alice, bob)',
    ],
    [
      'step approvers fewer than the target quorum',
      'targets.0.approval',
      { approvers: ['group:oncall'], minApprovals: 2, steps: { 'flush-queue': { approvers: ['alice'] } } },
      'targets.lab.approval.steps.flush-queue.approvers',
      'minApprovals 2 is more than the 1 approver(s) named (alice)',
    ],
    [
      'quorum of zero',
      'targets.0.approval.minApprovals',
      0,
      'targets.lab.approval.minApprovals',
      'must be a whole number 1-20, got 0',
    ],
    [
      'unparseable public key',
      'approvers.alice.publicKeys',
      ['ssh-ed25519 AAAAnotakey alice@laptop'],
      'approvers.alice.publicKeys[0]',
      'the key is not an OpenSSH public key line',
    ],
    [
      'RSA public key',
      'approvers.alice.publicKeys',
      [generateSshKeyPair('rsa', { bits: 2048 }).public],
      'approvers.alice.publicKeys[0]',
      'the key is a ssh-rsa key; approvals are signed with ed25519 keys only',
    ],
    [
      'private key where the public key goes',
      'approvers.alice.publicKeys',
      [generateSshKeyPair('ed25519', {}).private],
      'approvers.alice.publicKeys[0]',
      'the key is a private key: give the public key line (the .pub file) instead',
    ],
    [
      'one key for two approvers',
      'approvers.bob.publicKeys',
      [PUBLIC_KEYS.alice],
      'approvers.bob.publicKeys[0]',
      'the same key is listed for approver alice: each key must belong to one person',
    ],
    [
      'bad approver name',
      'approvers',
      { 'alice smith': {} },
      'approvers["alice smith"]',
      '"alice smith" is not a valid approver name',
    ],
    [
      'approver token given inline',
      'approvers.carol.token',
      'hunter2',
      'approvers.carol.token',
      INLINE_SECRET,
    ],
    [
      'receiver key given inline',
      'targets.0.approval.receiverKey',
      '-----BEGIN OPENSSH PRIVATE KEY-----',
      'targets.lab.approval.receiverKey',
      INLINE_SECRET,
    ],
    [
      'escalation after the deadline',
      'targets.0.approval.escalateAfterSeconds',
      3600,
      'targets.lab.approval.escalateAfterSeconds',
      'escalateAfterSeconds must be less than timeoutSeconds (or 0: no escalation)',
    ],
    [
      'unknown key in a step override',
      'targets.0.approval.steps',
      { 'delete-messages': { quorum: 2 } },
      'targets.lab.approval.steps.delete-messages.quorum',
      'unknown key "quorum"',
    ],
    [
      'bad step name in the overrides',
      'targets.0.approval.steps',
      { 'Delete Messages': { minApprovals: 1 } },
      'targets.lab.approval.steps["Delete Messages"]',
      'is not a valid step name',
    ],
    [
      'allowUnsigned as text',
      'targets.0.approval.allowUnsigned',
      'true',
      'targets.lab.approval.allowUnsigned',
      'expected true or false, got a string',
    ],
    ['wrong version', 'version', 2, 'version', 'must be 1'],
    [
      'list where a mapping goes',
      'targets.0.relay.ssh',
      ['a'],
      'targets.lab.relay.ssh',
      'expected a mapping, got a list',
    ],
  ];

  it.each(cases)('%s', (_name, editPath, value, path, fragment) => {
    expectProblem(problemsAfter(editPath, value), path, fragment);
  });

  it('covers at least 14 distinct mistakes', () => {
    expect(new Set(cases.map((c) => c[0])).size).toBeGreaterThanOrEqual(14);
  });
});

describe('a provider relay (one we cannot log in to)', () => {
  const provider = {
    flavour: 'provider',
    sasl: { user: 'AKIAEXAMPLE', password: { env: 'MRB_TEST_RELAY_SASL' } },
  };
  const withProvider = (relay: unknown) => stringify(edit(fullRaw(), 'targets.2.relay', relay));

  it('is valid without ssh, service and logs; its port defaults to 587', () => {
    const config = parseConfig(withProvider(provider), 'test.yaml');
    const relay = config.targets[2]!.relay;
    expect(relay).toEqual({ ...provider, port: 587 });
    expect(isProviderRelay(relay)).toBe(true);
    expect(isProviderRelay(config.targets[0]!.relay)).toBe(false);
  });

  it('is valid with nothing but its flavour (no credentials: no login check)', () => {
    expect(problemsOf(withProvider({ flavour: 'provider' }))).toEqual([]);
  });

  it('config check says it is checked over SMTP only, and never shows the secret reference', () => {
    const config = parseConfig(withProvider(provider), 'test.yaml');
    const relay = describeTarget(config.targets[2]!).relay;
    expect(relay).toBe(
      'provider relay relay.example.org:587 (STARTTLS), SMTP checks only (no ssh: restarts and relay logs are handed to a person), login checked as AKIAEXAMPLE',
    );
    expect(relay).not.toContain('MRB_TEST_RELAY_SASL');
  });

  it.each([
    [{ port: 465 }, 'implicit'],
    [{ port: 587 }, 'starttls'],
    [{}, 'starttls'],
    [{ port: 2525 }, 'starttls'],
    [{ port: 465, tls: 'starttls' }, 'starttls'],
    [{ port: 10465, tls: 'implicit' }, 'implicit'],
  ])('TLS mode %o: %s (port 465 alone means implicit TLS; relay.tls wins)', (settings, mode) => {
    const config = parseConfig(withProvider({ ...provider, ...settings }), 'test.yaml');
    const relay = config.targets[2]!.relay;
    if (!isProviderRelay(relay)) throw new Error('not a provider relay');
    expect(providerRelayTls(relay)).toBe(mode);
    expect(describeTarget(config.targets[2]!).relay).toContain(
      `:${relay.port} (${mode === 'implicit' ? 'implicit TLS' : 'STARTTLS'}), SMTP checks only`,
    );
  });

  it('an unknown TLS mode names the two it accepts', () => {
    expectProblem(
      problemsOf(withProvider({ ...provider, port: 465, tls: 'ssl' })),
      'targets.remote.relay.tls',
      '"starttls"',
    );
  });

  it('a linux relay without ssh says that a relay we cannot log in to is flavour provider', () => {
    const raw = edit(fullRaw(), 'targets.2.relay.ssh', undefined);
    const lines = problemsOf(stringify(raw));
    expect(lines).toHaveLength(1);
    expectProblem(lines, 'targets.remote.relay.ssh', 'missing (required for a relay we administer)');
    expectProblem(lines, 'targets.remote.relay.ssh', 'is flavour: provider, without ssh, service and logs');
  });

  it.each(['ssh', 'service', 'logs'])('a provider relay with %s is told to pick linux or windows', (key) => {
    const lines = problemsOf(withProvider({ ...provider, [key]: { host: 'relay.example.org' } }));
    expect(lines).toHaveLength(1);
    expectProblem(lines, `targets.remote.relay.${key}`, `unknown key "${key}"`);
    expectProblem(lines, `targets.remote.relay.${key}`, 'make it flavour linux or windows');
  });

  it('a misspelt flavour lists provider among the choices', () => {
    expectProblem(
      problemsOf(withProvider({ flavour: 'ses' })),
      'targets.remote.relay.flavour',
      'unknown flavour "ses"; expected "linux" or "windows" or "provider"',
    );
  });

  it('its secrets are listed for config check like every other reference', () => {
    const config = parseConfig(withProvider({ ...provider, ca: { file: 'relay-ca.pem' } }), 'test.yaml');
    const paths = listSecretRefs(config).map((r) => r.path.join('.'));
    expect(paths).toContain('targets.2.relay.sasl.password');
    expect(paths).toContain('targets.2.relay.ca');
  });
});

describe('reporting', () => {
  it('lists every problem at once, in file order, with line and column', () => {
    const text = FULL.replace('port: 2222', 'prot: 2222')
      .replace('container: mailserver', "container: 'mail;rm -rf'")
      .replace("cron: '30 2 * * *'", "cron: '30 2 * * * *'");
    const lines = problemsOf(text);
    expect(lines).toHaveLength(3);
    const lineOf = (needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
    expect(lines[0]).toMatch(
      new RegExp(
        `^test\\.yaml:${lineOf("container: 'mail")}:9: targets\\.lab\\.mailServer\\.docker\\.container: `,
      ),
    );
    expect(lines[1]).toMatch(
      new RegExp(`^test\\.yaml:${lineOf('prot: 2222')}:9: targets\\.lab\\.relay\\.ssh\\.prot: unknown key`),
    );
    expect(lines[2]).toMatch(
      new RegExp(`^test\\.yaml:${lineOf("cron: '30 2")}:5: schedules\\.nightly-e2e\\.cron: invalid cron`),
    );
  });

  it('reports YAML syntax errors with line and column', () => {
    const text = 'version: 1\ndefaultTarget: lab\ntargets: [lab\nschedules: []\n';
    const lines = problemsOf(text);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(/^test\.yaml:[34]:\d+: YAML syntax error: /);
  });

  it('reports duplicate keys as YAML errors', () => {
    expect(problemsOf('version: 1\nversion: 1\n')[0]).toMatch(
      /^test\.yaml:2:1: YAML syntax error: Map keys must be unique/,
    );
  });

  it('reports an empty file', () => {
    expect(problemsOf('# nothing\n')).toEqual([
      'test.yaml: the file is empty; expected version, targets, ...',
    ]);
  });

  it('never repeats a secret value, even in broken YAML', () => {
    const secrets = [
      'hunter2',
      'xoxb-very-secret-token',
      '-----BEGIN OPENSSH PRIVATE KEY-----',
      'https://hooks.example/T0/s3cr3t',
    ];
    let raw = edit(fullRaw(), 'targets.0.canary.submission.password', secrets[0]);
    raw = edit(raw, 'alerts.auth.bearerToken', secrets[1]);
    raw = edit(raw, 'targets.0.relay.ssh.privateKey', `${secrets[2]}\nb3BlbnNzaC1rZXk=\n`);
    raw = edit(raw, 'notifications.webhook.url', secrets[3]);
    raw = edit(raw, 'targets.1.canary.submission.password', { value: secrets[0] });
    const broken = FULL.replace('password: { env: MRB_TEST_CANARY_PASSWORD }', 'password: hunter2: oops: [');
    for (const lines of [problemsOf(stringify(raw)), problemsOf(broken)]) {
      expect(lines.length).toBeGreaterThan(0);
      for (const secret of secrets) expect(lines.join('\n')).not.toContain(secret);
    }
    expect(problemsOf(stringify(raw)).filter((l) => l.includes(INLINE_SECRET))).toHaveLength(4);
  });

  it('never repeats a private key pasted where an approver public key goes', () => {
    const pasted = generateSshKeyPair('ed25519', {}).private;
    const lines = problemsAfter('approvers.alice.publicKeys', [pasted]);
    expect(lines).toHaveLength(1);
    for (const keyLine of pasted.split('\n').slice(1, -2)) expect(lines[0]).not.toContain(keyLine);
  });

  it('names list entries by index when their name is not unique', () => {
    const lines = problemsAfter('targets.1.name', 'lab');
    expect(lines.join('\n')).not.toContain('targets.lab.');
  });
});

describe('loadConfig and resolveConfigPath', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mrb-config-'));
    await mkdir(join(dir, 'keys'));
    await writeFile(join(dir, 'mail-runbooks.yaml'), FULL);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('resolves relative secret file paths against the config folder', async () => {
    const config = await loadConfig(join(dir, 'mail-runbooks.yaml'));
    const files = listSecretRefs(config).flatMap(({ ref }) => ('file' in ref ? [ref.file] : []));
    expect(files).toContain(join(dir, 'keys/relay_admin_ed25519'));
    expect(files).toContain(join(dir, 'ca.crt'));
    expect(files).toContain('/etc/mrb/relay');
  });

  it('does not take an alert label named env or file for a secret reference', () => {
    const raw = edit(fullRaw(), 'alerts.routes.0.match', { env: 'prod' });
    const config = parseConfig(stringify(raw), 'test.yaml');
    expect(listSecretRefs(config).map((r) => r.path.join('.'))).not.toContain('alerts.routes.0.match');
    expect(listSecretRefs(config)).toHaveLength(13);
  });

  it('says clearly when the file is missing', async () => {
    const missing = join(dir, 'nope.yaml');
    await expect(loadConfig(missing)).rejects.toThrow(
      new ConfigError([{ file: missing, path: '', message: 'config file not found' }]).message,
    );
    await expect(loadConfig(missing)).rejects.toBeInstanceOf(ConfigError);
  });

  it('says when the path is a folder', async () => {
    await expect(loadConfig(dir)).rejects.toThrow(`${dir}: is a folder, not a config file`);
  });

  it('picks --config, then MRB_CONFIG, then ./mail-runbooks.yaml, then .lab/target.yaml', async () => {
    expect(resolveConfigPath({ explicit: 'x.yaml', env: { MRB_CONFIG: 'y.yaml' }, cwd: dir })).toEqual({
      path: join(dir, 'x.yaml'),
      reason: 'given with --config',
      exists: false,
      source: 'option',
    });
    expect(resolveConfigPath({ env: { MRB_CONFIG: 'mail-runbooks.yaml' }, cwd: dir })).toMatchObject({
      reason: 'from MRB_CONFIG',
      exists: true,
    });
    expect(resolveConfigPath({ env: {}, cwd: dir })).toMatchObject({
      path: join(dir, 'mail-runbooks.yaml'),
      exists: true,
    });
    const labOnly = await mkdtemp(join(tmpdir(), 'mrb-lab-'));
    try {
      expect(resolveConfigPath({ env: {}, cwd: labOnly })).toMatchObject({
        exists: false,
        reason: expect.stringContaining('none found') as string,
      });
      await mkdir(join(labOnly, '.lab'));
      await writeFile(join(labOnly, '.lab/target.yaml'), FULL);
      expect(resolveConfigPath({ env: {}, cwd: labOnly })).toEqual({
        path: join(labOnly, '.lab/target.yaml'),
        reason: '.lab/target.yaml, written by the lab (no config given)',
        exists: true,
        source: 'lab',
      });
    } finally {
      await rm(labOnly, { recursive: true, force: true });
    }
  });
});
