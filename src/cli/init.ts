/**
 * `init`: writes a commented config for one real target (docker-mailserver, and a Linux relay reached over
 * SSH or a provider relay checked over SMTP only) from flags, asking for what is missing when a terminal can
 * answer, then runs `config check` on it.
 * Secrets are written as `{ file: ... }` references only; the files themselves are the operator's
 * (docs/production.md). Every value is written as a YAML-quoted string or a number, so no input can add
 * keys to the file.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { SHIPPED_ALERT_RUNBOOKS } from '../alerts/shipped-routes.js';
import { checkConfig } from '../config/check.js';
import { CLI_COMMAND } from '../shared/cli-command.js';
import { renderCheck } from './config.js';
import { parsePort } from './hostkey.js';
import { CliError, context, output, setExitCode, type OutputOptions } from './output.js';

/** The answers given so far, while asking. */
type Answered = Partial<InitAnswers>;

interface Question {
  flag: string;
  /** The option's key in commander's opts(). */
  key: keyof InitAnswers;
  question: string | ((answers: Answered) => string);
  default?: string | ((answers: Answered) => string | undefined);
  /** Asked, and its flag accepted, only when this holds for the answers before it (default: always). */
  when?: (answers: Answered) => boolean;
  /** May stay empty: the config then leaves that part out. */
  optional?: boolean;
  choices?: readonly string[];
  /** When `when` can fail: what the flag needs, for --help and the error when it is given anyway. */
  appliesTo?: string;
  /** The --help text, when the question and default depend on earlier answers. */
  help?: string;
}

export type RelayFlavourAnswer = 'linux' | 'provider';

export interface InitAnswers {
  target: string;
  container: string;
  dockerSocket: string;
  relayFlavour: RelayFlavourAnswer;
  relayHost: string;
  /** A relay we administer (linux) only, from here to relayErrorLog. */
  relaySshPort?: string;
  relayUser?: string;
  relayKey?: string;
  relayHostKey?: string;
  relayPort: string;
  /** A provider relay only. */
  relayTls?: string;
  relaySaslUser?: string;
  relaySaslPasswordFile?: string;
  relayManager?: string;
  relayService?: string;
  relayLog?: string;
  relayErrorLog?: string;
  submissionHost: string;
  submissionPort: string;
  canaryFrom: string;
  canaryPasswordFile: string;
  canaryTo: string;
  alertTokenFile: string;
}

const provider = (a: Answered): boolean => a.relayFlavour === 'provider';
const LINUX_ONLY = { when: (a: Answered) => !provider(a), appliesTo: 'linux relay only' };
const PROVIDER_ONLY = { when: provider, appliesTo: 'provider relay only' };

const QUESTIONS: Question[] = [
  { flag: '--target', key: 'target', question: 'target name', default: 'mx1' },
  {
    flag: '--container',
    key: 'container',
    question: "docker-mailserver's container name",
    default: 'mailserver',
  },
  {
    flag: '--docker-socket',
    key: 'dockerSocket',
    question: 'Docker socket (a socket proxy allowing exec only is best)',
    default: '/var/run/docker.sock',
  },
  {
    flag: '--relay-flavour',
    key: 'relayFlavour',
    question:
      'relay flavour (linux: a relay we administer over SSH | provider: Amazon SES, Mailgun, a smarthost we cannot log in to)',
    default: 'linux',
    choices: ['linux', 'provider'],
  },
  {
    flag: '--relay-host',
    key: 'relayHost',
    question: (a) =>
      provider(a)
        ? "relay host (the provider's SMTP server, as DMS's RELAY_HOST names it)"
        : 'relay host (SSH)',
    help: "relay host: a linux relay's SSH host, or a provider relay's SMTP server (also canary.expectRelay)",
  },
  {
    flag: '--relay-ssh-port',
    key: 'relaySshPort',
    question: "relay's SSH port",
    default: '22',
    ...LINUX_ONLY,
  },
  {
    flag: '--relay-user',
    key: 'relayUser',
    question: 'relay SSH user (least privilege)',
    default: 'mrb-relay',
    ...LINUX_ONLY,
  },
  {
    flag: '--relay-key',
    key: 'relayKey',
    question: 'private key file for the relay user',
    default: '/etc/mail-runbooks/keys/relay_ed25519',
    ...LINUX_ONLY,
  },
  {
    flag: '--relay-host-key',
    key: 'relayHostKey',
    question: "relay's pinned host key (from: hostkey <host> [port])",
    ...LINUX_ONLY,
  },
  {
    flag: '--relay-port',
    key: 'relayPort',
    question: (a) =>
      provider(a) ? "relay's SMTP port (587 STARTTLS, 465 implicit TLS)" : "relay's SMTP port",
    default: (a) => (provider(a) ? '587' : '2526'),
    help: "relay's SMTP port (default: 2526; a provider relay: 587, or 465 for implicit TLS)",
  },
  {
    flag: '--relay-tls',
    key: 'relayTls',
    question: 'how the relay speaks TLS (starttls | implicit)',
    default: (a) => (Number(a.relayPort) === 465 ? 'implicit' : 'starttls'),
    help: 'how the relay speaks TLS: starttls | implicit (default: implicit on port 465, else starttls)',
    ...PROVIDER_ONLY,
    choices: ['starttls', 'implicit'],
  },
  {
    flag: '--relay-sasl-user',
    key: 'relaySaslUser',
    question: (a) =>
      `SASL user at the relay (DMS's RELAY_USER; empty: ${provider(a) ? 'the login is not checked' : 'not compared with the mail server'})`,
    help: "the mail server's SASL user at the relay (DMS's RELAY_USER; optional: a provider relay's login is checked with it)",
    optional: true,
  },
  {
    flag: '--relay-sasl-password-file',
    key: 'relaySaslPasswordFile',
    question: "file holding that user's password (DMS's RELAY_PASSWORD)",
    default: '/etc/mail-runbooks/secrets/relay-sasl-password',
    when: (a) => a.relaySaslUser !== undefined,
    appliesTo: 'with --relay-sasl-user',
  },
  {
    flag: '--relay-manager',
    key: 'relayManager',
    question: 'relay service manager (systemd | supervisor)',
    default: 'systemd',
    ...LINUX_ONLY,
    choices: ['systemd', 'supervisor'],
  },
  {
    flag: '--relay-service',
    key: 'relayService',
    question: 'relay service name',
    default: 'smtp-relay',
    ...LINUX_ONLY,
  },
  {
    flag: '--relay-log',
    key: 'relayLog',
    question: "relay's log file",
    default: '/var/log/smtp-relay/relay.log',
    ...LINUX_ONLY,
  },
  {
    flag: '--relay-error-log',
    key: 'relayErrorLog',
    question: "relay's error log file",
    default: '/var/log/smtp-relay/relay.err.log',
    ...LINUX_ONLY,
  },
  { flag: '--submission-host', key: 'submissionHost', question: 'mail server host for SMTP submission' },
  {
    flag: '--submission-port',
    key: 'submissionPort',
    question: 'submission port (587 STARTTLS, 465 TLS)',
    default: '587',
  },
  {
    flag: '--canary-from',
    key: 'canaryFrom',
    question: 'canary account on the mail server (setup email add ...)',
  },
  {
    flag: '--canary-password-file',
    key: 'canaryPasswordFile',
    question: "file holding the canary account's password",
    default: '/etc/mail-runbooks/secrets/canary-password',
  },
  { flag: '--canary-to', key: 'canaryTo', question: 'canary destination mailbox (outside this server)' },
  {
    flag: '--alert-token-file',
    key: 'alertTokenFile',
    question: "file holding Alertmanager's bearer token for the receiver",
    default: '/etc/mail-runbooks/secrets/alert-token',
  },
];

const q = (value: string): string => JSON.stringify(value);

/** The relay: one we administer over SSH, or a provider's, checked over SMTP only. */
function relayBlock(a: InitAnswers): string {
  const sasl =
    a.relaySaslUser === undefined
      ? ''
      : `      sasl: # the credentials DMS's RELAY_USER / RELAY_PASSWORD hold
        user: ${q(a.relaySaslUser)}
        password: { file: ${q(a.relaySaslPasswordFile ?? '')} }
`;
  if (a.relayFlavour === 'provider')
    return `    relay:
      # A relay we cannot log in to: checked over SMTP only (banner, TLS, AUTH${a.relaySaslUser === undefined ? '' : ', a login with sasl'},
      # deferrals in our mail log); what needs its SSH is handed to a person. Its host is canary.expectRelay.
      flavour: provider
      port: ${Number(a.relayPort)}
      tls: ${q(a.relayTls ?? 'starttls')} # starttls, or implicit (TLS from the first byte, SMTPS: port 465)
${sasl}`;
  return `    relay:
      flavour: linux
      ssh:
        host: ${q(a.relayHost)}
        port: ${Number(a.relaySshPort)}
        user: ${q(a.relayUser ?? '')} # the rights of docs/production.md step 3, nothing more
        privateKey: { file: ${q(a.relayKey ?? '')} }
        hostKey: ${q(a.relayHostKey ?? '')} # from \`${CLI_COMMAND} hostkey\`, confirmed out of band
      port: ${Number(a.relayPort)}
${sasl}      service: { manager: ${q(a.relayManager ?? '')}, name: ${q(a.relayService ?? '')} }
      logs: { log: ${q(a.relayLog ?? '')}, errorLog: ${q(a.relayErrorLog ?? '')} }
`;
}

/** The config text: the production example's layout, with comments, for these answers. */
export function renderInitConfig(a: InitAnswers): string {
  const tls = Number(a.submissionPort) === 465 ? 'implicit' : 'starttls';
  const routes = SHIPPED_ALERT_RUNBOOKS.map(
    (r) => `    - { match: { alertname: ${r.alertname} }, runbook: ${r.runbook}, targetLabel: target }`,
  );
  return `# mail-runbooks configuration written by \`${CLI_COMMAND} init\`. docs/production.md explains each part;
# every key is described in docs/config-reference.md. Check it with: ${CLI_COMMAND} config check -c <this file>
# Secrets are references ({ file: PATH } or { env: NAME }), never values: create the files named here.
version: 1
defaultTarget: ${q(a.target)}

targets:
  - name: ${q(a.target)}
    mailServer:
      kind: dms
      docker:
        # Root on the mail host for whoever can use it: prefer a socket proxy that allows exec only
        # (docs/security.md), or engine type ssh.
        engine: { type: socket, socketPath: ${q(a.dockerSocket)} }
        container: ${q(a.container)}
      mailLog: /var/log/mail/mail.log
${relayBlock(a)}    canary:
      submission:
        host: ${q(a.submissionHost)}
        port: ${Number(a.submissionPort)}
        tls: ${tls} # certificates are verified against the system store
        user: ${q(a.canaryFrom)}
        password: { file: ${q(a.canaryPasswordFile)} }
      from: ${q(a.canaryFrom)}
      to: ${q(a.canaryTo)} # a mailbox outside this server, so the canary crosses the relay
      expectRelay: ${q(a.relayHost)} # relay=... expected in the mail log for the canary
    approval:
      # Nobody is listed yet: add approvers below with their ed25519 public keys, and name them here
      # (docs/security.md, "Who can approve"). Until then every approval request ends at its deadline.
      approvers: []
      allowUnsigned: false
      fourEyes: true

approvers: {}

alerts:
  listen: { host: 127.0.0.1, port: 9095 } # publish through a TLS reverse proxy (docs/security.md)
  auth: { bearerToken: { file: ${q(a.alertTokenFile)} } }
  # One route per alert of monitoring/prometheus-rules.yml.
  routes:
${routes.join('\n')}

schedules:
  - name: nightly-e2e
    runbook: endToEndVerification
    cron: '30 2 * * *'
    timezone: UTC
    jitterSeconds: 300
    targets: [${q(a.target)}]
`;
}

async function answers(opts: Answered, interactive: boolean): Promise<InitAnswers> {
  const { io } = context();
  const result: Answered = {};
  const missing: string[] = [];
  const misplaced: string[] = [];
  for (const question of QUESTIONS) {
    let value: string | undefined = opts[question.key];
    if (question.when && !question.when(result)) {
      if (value !== undefined) misplaced.push(`${question.flag} (${question.appliesTo ?? 'not asked'})`);
      continue;
    }
    const fallback = typeof question.default === 'function' ? question.default(result) : question.default;
    if (value === undefined && interactive && io.ask) {
      const text = typeof question.question === 'function' ? question.question(result) : question.question;
      value = (await io.ask(`${text}${fallback ? ` [${fallback}]` : ''}: `)).trim() || fallback;
    }
    value ??= fallback;
    if (value === undefined || value === '') {
      if (!question.optional) missing.push(question.flag);
      continue;
    }
    if (question.choices && !question.choices.includes(value))
      throw new CliError(`${question.flag} ${value}: use one of ${question.choices.join(', ')}`);
    (result as Record<string, string>)[question.key] = value;
  }
  if (misplaced.length > 0)
    throw new CliError(
      `not for this relay${result.relayFlavour === 'provider' ? ' (a provider relay has no SSH, service or logs)' : ''}: ${misplaced.join('; ')}`,
    );
  if (missing.length > 0)
    throw new CliError(`init needs ${missing.join(', ')} (or run it in a terminal to be asked)`);
  for (const key of ['relaySshPort', 'relayPort', 'submissionPort'] as const)
    if (result[key] !== undefined) parsePort(result[key]);
  return result as InitAnswers;
}

/** The question as help text: the linux relay's wording and defaults, and when it applies. */
function helpText(question: Question): string {
  const asLinux: Answered = { relayFlavour: 'linux' };
  const text = typeof question.question === 'function' ? question.question(asLinux) : question.question;
  const fallback = typeof question.default === 'string' ? ` (default: ${question.default})` : '';
  const only = question.appliesTo ? ` (${question.appliesTo})` : '';
  return `${question.help ?? `${text}${fallback}`}${only}`;
}

export function registerInitCommand(program: Command): void {
  const command = program
    .command('init')
    .description(
      'write a commented config for a real target (docker-mailserver, and a Linux relay over SSH or a provider relay checked over SMTP) from flags or questions, then check it',
    )
    .option('-c, --config <path>', 'config file to write', 'mail-runbooks.yaml')
    .option('--force', 'overwrite the file when it exists')
    .option('--no-input', 'never ask: take flags and defaults only');
  for (const question of QUESTIONS) {
    const placeholder = question.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    command.option(`${question.flag} <${placeholder}>`, helpText(question));
  }
  command
    .option('--json', 'machine-readable output')
    .action(
      async (
        opts: OutputOptions & Partial<InitAnswers> & { config: string; force?: boolean; input: boolean },
      ) => {
        if (existsSync(opts.config) && !opts.force)
          throw new CliError(`${opts.config} exists: nothing written (--force overwrites it)`);
        const text = renderInitConfig(await answers(opts, opts.input));
        await writeFile(opts.config, text, { mode: 0o640 });
        const result = await checkConfig(opts.config);
        output(opts, { written: opts.config, check: result }, `wrote ${opts.config}\n${renderCheck(result)}`);
        setExitCode(result.ok ? 0 : 1);
      },
    );
}
