/**
 * The config file contract (docs/config-reference.md is generated from the descriptions here). Every
 * object is strict, so a misspelt key is an error rather than a silently ignored setting. Cross-field rules
 * (names that refer to other entries) live in rules.ts.
 */

import { z } from 'zod';
import {
  approverName,
  approverPublicKey,
  approverRef,
  containerName,
  count,
  cron,
  dkimSelector,
  email,
  fingerprint,
  host,
  hostAlias,
  isHost,
  httpUrl,
  labelName,
  labelPart,
  port,
  posixPath,
  processName,
  secretRef,
  seconds,
  show,
  sshUser,
  stepName,
  strict,
  targetName,
  targetSelection,
  taskName,
  text,
  timeZone,
  unitName,
  unixUser,
  windowsPath,
} from './fields.js';
import { FLEET_DEFAULTS } from '../shared/fleet.js';
import { DEFAULT_LIMITS } from '../shared/guard.js';
import { crossFieldIssues } from './rules.js';
import { RUNBOOK_NAMES } from './runbooks.js';

export { RUNBOOK_NAMES, type ConfigRunbookName } from './runbooks.js';
export { INLINE_SECRET, type SecretRef } from './fields.js';

const runbook = z
  .enum(RUNBOOK_NAMES, {
    error: (iss) => `unknown runbook ${show(iss.input)}; one of: ${RUNBOOK_NAMES.join(', ')}`,
  })
  .meta({ format: 'runbook name' });

export const sshEndpointSchema = strict({
  host: host.describe('SSH server: hostname or IP address'),
  port: port.default(22).describe('SSH port'),
  user: sshUser.describe('login user'),
  privateKey: secretRef.describe('private key (OpenSSH or PEM) as a secret reference'),
  hostKey: fingerprint.describe(
    'pinned host key fingerprint, "SHA256:" + 43 base64 characters; any other key is refused',
  ),
});

const dockerEngineSchema = z
  .discriminatedUnion('type', [
    strict({
      type: z.literal('socket').describe('Docker engine on a local unix socket'),
      socketPath: posixPath.default('/var/run/docker.sock').describe('absolute path of the engine socket'),
    }),
    strict({
      type: z.literal('tcp').describe('Docker engine over TCP; TLS with client certificate is required'),
      host: host.describe('engine hostname or IP address'),
      port: port.default(2376).describe('engine TLS port'),
      // A plain-TCP engine is root on the host for anyone who can reach it, so TLS is not optional.
      tls: strict({
        ca: secretRef.describe('CA certificate (PEM) that signed the engine certificate'),
        cert: secretRef.describe('client certificate (PEM)'),
        key: secretRef.describe('client private key (PEM)'),
      }).describe('mutual TLS material'),
    }),
    strict({
      type: z.literal('ssh').describe('Docker engine reached over SSH (docker system dial-stdio)'),
      ...sshEndpointSchema.shape,
    }),
  ])
  .describe('how to reach the Docker engine');

const relayClientSchema = strict({
  keyPath: posixPath.describe(
    'private key the mail server uses to reach the relay (checked: present, mode 0600)',
  ),
  keyOwner: unixUser.default('root').describe('user that must own keyPath'),
  sshConfig: posixPath.optional().describe('ssh_config file that defines hostAlias'),
  hostAlias: hostAlias.describe('ssh host alias of the relay, tested with "ssh <alias> echo OK"'),
}).describe(
  'how the mail server reaches the relay over SSH (checked by queueBacklog); omit when it does not',
);

const relayMapFiles = z
  .array(posixPath)
  .max(20, { error: 'at most 20 files' })
  .optional()
  .describe(
    'files that hold sender-dependent relay routes (docker-mailserver writes /etc/postfix/relayhost_map); relayRoutingCheck flags one that exists but no relay parameter references',
  );

const dmsServerSchema = strict({
  kind: z.literal('dms').describe('docker-mailserver in a container'),
  docker: strict({
    engine: dockerEngineSchema,
    container: containerName.describe('container name (or id) of the mail server'),
  }).describe('Docker engine and container'),
  mailLog: posixPath.default('/var/log/mail/mail.log').describe('mail log inside the container'),
  relayClient: relayClientSchema.optional(),
  relayMapFiles,
});

const postfixServerSchema = strict({
  kind: z.literal('postfix').describe('plain Postfix on a host reached over SSH'),
  ssh: sshEndpointSchema.describe('SSH access to the Postfix host'),
  mailLog: posixPath.default('/var/log/mail.log').describe('mail log on the host'),
  relayClient: relayClientSchema.optional(),
  relayMapFiles,
});

export const mailServerSchema = z
  .discriminatedUnion('kind', [dmsServerSchema, postfixServerSchema])
  .describe('the mail server');

const tlsMode = z
  .enum(['starttls', 'implicit'])
  .describe('starttls (usually port 587) or implicit TLS (usually 465); certificates are always verified');

const relayCommon = {
  ssh: strict(sshEndpointSchema.shape, {
    missing:
      'missing (required for a relay we administer); a relay we cannot log in to (Amazon SES, Mailgun, an ISP smarthost) is flavour: provider, without ssh, service and logs',
  }).describe('SSH access to the relay host (administration, logs)'),
  port: port.default(2526).describe('TCP port the relay listens on for mail'),
  sasl: strict({
    user: text.describe("the mail server's SASL login at the relay"),
    password: secretRef.describe(
      "its current password, from your secret store: queueBacklog compares it with the mail server's SASL password table and, after approval, writes it there when the relay refuses the old one",
    ),
  })
    .optional()
    .describe("the mail server's credentials at the relay; omit and a refused login is handed to a person"),
};

const linuxRelaySchema = strict({
  flavour: z.literal('linux').describe('Linux relay host'),
  ...relayCommon,
  service: strict({
    manager: z.enum(['supervisor', 'systemd']).describe('what runs the relay'),
    name: unitName.describe('supervisor program or systemd unit name'),
  }).describe('the relay service'),
  logs: strict({
    log: posixPath.describe('relay log'),
    errorLog: posixPath.optional().describe('relay error log, when separate'),
  }).describe('relay logs read by the runbooks'),
});

const windowsRelaySchema = strict({
  flavour: z.literal('windows').describe('Windows relay host (OpenSSH server, PowerShell)'),
  ...relayCommon,
  service: strict({
    manager: z.literal('scheduled-task').describe('a Scheduled Task runs the relay watchdog'),
    name: taskName.describe('scheduled task name'),
    process: processName.default('python').describe('process name of the relay, as Get-Process shows it'),
  }).describe('the relay watchdog'),
  logs: strict({
    log: windowsPath.describe('relay log'),
    errorLog: windowsPath.optional().describe('relay error log, when separate'),
  }).describe('relay logs read by the runbooks'),
});

/**
 * A relay we cannot log in to (Amazon SES, Mailgun, an ISP smarthost): no ssh, service or logs. The
 * runbooks check it over SMTP only and hand over what they cannot do to a person (docs/production.md).
 */
const providerRelaySchema = strict(
  {
    flavour: z
      .literal('provider')
      .describe(
        'a relay we cannot log in to (Amazon SES, Mailgun, an ISP smarthost): no ssh, service or logs; the runbooks check it over SMTP only (reachability, STARTTLS, AUTH, deferrals in our mail log) and hand over the rest. Its host is canary.expectRelay',
      ),
    port: port
      .default(587)
      .describe('TCP port the mail server sends to (587 or 2525 with STARTTLS, 465 with implicit TLS)'),
    tls: tlsMode
      .optional()
      .describe(
        'how the relay speaks TLS: starttls (plain SMTP, then STARTTLS) or implicit (TLS from the first byte, SMTPS); default implicit on port 465, starttls on any other port',
      ),
    sasl: relayCommon.sasl.describe(
      "the mail server's credentials at the relay; when given, relayUnresponsive logs in with them from the worker (AUTH, then QUIT: no mail is sent) and queueBacklog compares them with the mail server's SASL table",
    ),
    ca: secretRef
      .optional()
      .describe(
        "CA certificate (PEM) the worker verifies the relay's certificate against for the login check, instead of the system store",
      ),
    servername: host
      .optional()
      .describe("name to verify the relay's certificate against, when it is not canary.expectRelay"),
  },
  {
    unknownKeys: Object.fromEntries(
      ['ssh', 'service', 'logs'].map((key) => [
        key,
        'a provider relay is checked over SMTP only; to administer the relay over SSH, make it flavour linux or windows',
      ]),
    ),
  },
);

export const relaySchema = z
  .discriminatedUnion('flavour', [linuxRelaySchema, windowsRelaySchema, providerRelaySchema])
  .describe('the SMTP relay host the mail server sends through');

/** Login to a mail server (submission or IMAP); `port` comes second so the reference reads naturally. */
function mailLogin(defaultPort: number, portDescription: string) {
  return {
    host: host.describe('server hostname or IP address'),
    port: port.default(defaultPort).describe(portDescription),
    tls: tlsMode,
    ca: secretRef.optional().describe('CA certificate (PEM) to trust instead of the system store'),
    servername: host.optional().describe('name to verify the certificate against, when host is an address'),
    user: text.describe('login name'),
    password: secretRef.describe('login password'),
  };
}

const canarySchema = strict({
  submission: strict(mailLogin(587, 'submission port')).describe(
    'SMTP submission with AUTH used to send the canary',
  ),
  from: email.describe('canary sender address'),
  to: email.describe('canary recipient: an approved mailbox that accepts test mail'),
  expectRelay: host.describe('relay host expected in the mail log ("relay=<host>[...]") for the canary'),
  imap: strict({
    ...mailLogin(993, 'IMAP port'),
    mailbox: text.default('INBOX').describe('mailbox to search for the canary'),
  })
    .optional()
    .describe("the recipient's IMAP mailbox, to confirm arrival; omit to stop at the mail log"),
}).describe('end-to-end verification message');

const thresholdsSchema = strict({
  queueDrainBelow: count(0, 1_000_000)
    .default(5)
    .describe('queue counts as drained below this many messages'),
  drainTimeoutSeconds: seconds(10, 86_400).default(600).describe('how long to wait for the queue to drain'),
  deliveryTimeoutSeconds: seconds(10, 3_600)
    .default(120)
    .describe('how long to wait for the canary delivery'),
  logTailLines: count(1, 5_000).default(50).describe('log lines gathered as evidence'),
}).describe('limits used by the runbooks');

const approverList = z.array(approverRef).max(100, { error: 'at most 100 entries' });

/** Who decides one step, and how; every field may be overridden per step. */
const stepPolicyFields = {
  approvers: approverList.describe(
    'who may decide: approver names or "group:<name>"; empty means anyone a channel authenticates (an approver from the top-level list, or anyone at all where allowUnsigned is true)',
  ),
  minApprovals: count(1, 20).describe(
    'distinct approvers who must approve (a quorum); one rejection ends the request',
  ),
  fourEyes: z.boolean().describe('the person who started a run may not decide its steps'),
  allowUnsigned: z
    .boolean()
    .describe(
      'count decisions nobody proved (a raw Signal or Update typed in the Temporal UI), recorded as unsigned; the lab sets true',
    ),
};

const stepPolicySchema = strict({
  approvers: stepPolicyFields.approvers.optional(),
  minApprovals: stepPolicyFields.minApprovals.optional(),
  fourEyes: stepPolicyFields.fourEyes.optional(),
  allowUnsigned: stepPolicyFields.allowUnsigned.optional(),
}).describe("one step's overrides of the target's approval policy");

const approvalSchema = strict({
  timeoutSeconds: seconds(60, 604_800).default(3_600).describe('how long a step waits for approval'),
  reminderAfterSeconds: seconds(0, 604_800)
    .default(900)
    .describe('send a reminder after this long without a decision (0: no reminder)'),
  escalateAfterSeconds: seconds(0, 604_800)
    .default(0)
    .describe('notify escalateTo after this long without a decision (0: no escalation)'),
  escalateTo: approverList
    .default([])
    .describe('approver names or "group:<name>" told at escalation, through the configured channels'),
  onTimeout: z.literal('abort').default('abort').describe('what happens when nobody decides in time'),
  proceedOnTimeout: z
    .array(stepName)
    .default([])
    .describe('steps that proceed when nobody decides by the deadline; every other step aborts'),
  unattended: z
    .array(stepName)
    .default([])
    .describe('state-changing steps allowed to run without approval on this target, e.g. [flush-queue]'),
  approvers: stepPolicyFields.approvers.default([]),
  minApprovals: stepPolicyFields.minApprovals.default(1),
  fourEyes: stepPolicyFields.fourEyes.default(true),
  allowUnsigned: stepPolicyFields.allowUnsigned.default(false),
  steps: z
    .record(stepName, stepPolicySchema)
    .default({})
    .describe('per-step overrides, e.g. { delete-messages: { minApprovals: 2 } }'),
  receiverKey: secretRef
    .optional()
    .describe(
      "the receiver approval endpoint's OpenSSH ed25519 private key: it signs the decisions it took; the worker checks them with its public half",
    ),
})
  // 0 switches the reminder or the escalation off; any other value must come before the deadline.
  .refine((a) => a.reminderAfterSeconds === 0 || a.reminderAfterSeconds < a.timeoutSeconds, {
    error: 'reminderAfterSeconds must be less than timeoutSeconds (or 0: no reminder)',
    path: ['reminderAfterSeconds'],
  })
  .refine((a) => a.escalateAfterSeconds === 0 || a.escalateAfterSeconds < a.timeoutSeconds, {
    error: 'escalateAfterSeconds must be less than timeoutSeconds (or 0: no escalation)',
    path: ['escalateAfterSeconds'],
  })
  .describe('human approval before state-changing steps');

const approverSchema = strict({
  publicKeys: z
    .array(approverPublicKey)
    .min(1, { error: 'list at least one key, or leave publicKeys out' })
    .max(20, { error: 'at most 20 keys' })
    .optional()
    .describe(
      'OpenSSH ed25519 public key lines ("ssh-ed25519 AAAA... comment") whose private halves sign this approver\'s CLI decisions',
    ),
  token: secretRef.optional().describe("this approver's token for the receiver's approval endpoint"),
}).describe('one person who may decide approvals');

const auditSchema = strict({
  smtpHost: host
    .optional()
    .describe(
      "host of the mail server's public SMTP port as the worker reaches it; default canary.submission.host",
    ),
  smtpPort: port
    .optional()
    .describe(
      "the mail server's public SMTP port (25, or where it is published) as the worker reaches it: openRelayAudit connects there unauthenticated and tries MAIL FROM/RCPT TO canary.to (no DATA is sent); omit to skip that live probe",
    ),
})
  .refine((a) => a.smtpHost === undefined || a.smtpPort !== undefined, {
    error: 'smtpHost needs smtpPort',
    path: ['smtpPort'],
  })
  .describe('settings of the read-only audits');

const dnsServer = z
  .string()
  .refine(
    (v) => {
      const m = /^(.+?)(?::(\d{1,5}))?$/.exec(v);
      return !!m && /^[\d.]+$/.test(m[1]!) && isHost(m[1]!) && (!m[2] || (+m[2] >= 1 && +m[2] <= 65535));
    },
    {
      error: (iss) => `${show(iss.input)} is not an IPv4 address with an optional :port, like 192.0.2.53:53`,
    },
  )
  .meta({ format: 'IPv4 address[:port]' });

const diagnosisSchema = strict({
  dnsServers: z
    .array(dnsServer)
    .min(1)
    .optional()
    .describe("DNS servers to ask (IPv4[:port]); default: the worker's system resolver"),
  domain: host
    .optional()
    .describe(
      'mail domain whose MX, SPF, DMARC and DKIM records are checked; default the domain of canary.from',
    ),
  dkimSelectors: z
    .array(dkimSelector)
    .min(1)
    .default(['mail'])
    .describe(
      "DKIM selectors to look up (<selector>._domainkey.<domain>); docker-mailserver's default is mail",
    ),
}).describe('settings of smtpPathDiagnosis (the DNS layer)');

export const targetSchema = strict({
  name: targetName.describe('target name, used by alerts, schedules, the CLI and workflow input'),
  labels: z
    .record(labelPart, labelPart)
    .default({})
    .describe('labels to pick targets by, e.g. { site: eu, tier: canary } (fleet --targets label=site=eu)'),
  mailServer: mailServerSchema,
  relay: relaySchema,
  canary: canarySchema,
  thresholds: thresholdsSchema.prefault({}),
  approval: approvalSchema.prefault({}),
  audit: auditSchema.optional(),
  diagnosis: diagnosisSchema.optional(),
}).describe('one mail server with its relay');

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|::1)$/;

const smtpSchema = strict({
  host: host.describe('SMTP server hostname or IP address'),
  port: port.default(587).describe('SMTP port'),
  tls: z
    .enum(['starttls', 'implicit', 'none'])
    .describe('starttls (usually 587), implicit (usually 465), or none for a loopback server only'),
  ca: secretRef.optional().describe('CA certificate (PEM) to trust instead of the system store'),
  servername: host.optional().describe('name to verify the certificate against, when host is an address'),
  user: text.optional().describe('login name; give it with password, or neither'),
  password: secretRef.optional().describe('login password'),
})
  .refine((s) => (s.user === undefined) === (s.password === undefined), {
    error: 'give user and password together, or neither',
    path: ['password'],
  })
  // Without TLS the password and the mail cross the network in clear text.
  .refine((s) => s.tls !== 'none' || LOOPBACK.test(s.host), {
    error: 'tls none is allowed only for a loopback host (127.0.0.1, ::1, localhost)',
    path: ['tls'],
  })
  .describe('SMTP server for notification mail (ideally not the mail server being repaired)');

const notificationsSchema = strict({
  webhook: strict({
    url: secretRef.describe('chat webhook URL; a secret because it usually embeds a token'),
  })
    .optional()
    .describe('chat webhook (works when mail does not)'),
  email: strict({
    smtp: smtpSchema,
    from: email.describe('sender address'),
    to: z.array(email).min(1, { error: 'must list at least one address' }).describe('recipients'),
  })
    .optional()
    .describe('notification by email'),
  uiBaseUrl: httpUrl.optional().describe('Temporal Web UI base URL, for links in notifications'),
}).describe('where approval requests and results are sent');

const routeSchema = strict({
  match: z
    .record(labelName, z.string())
    .refine((m) => Object.keys(m).length > 0, { error: 'must name at least one label, e.g. alertname' })
    .describe('labels that must all be equal, e.g. { alertname: PostfixQueueBacklog }'),
  runbook: runbook.describe('runbook to start'),
  target: targetName.optional().describe('fixed target; else the targetLabel value; else defaultTarget'),
  targetLabel: labelName.optional().describe('alert label whose value names the target'),
})
  // A fixed target wins over the label (see src/alerts/routing.ts), so giving both hides a mistake.
  .refine((r) => r.target === undefined || r.targetLabel === undefined, {
    error: 'give target or targetLabel, not both',
    path: ['targetLabel'],
  })
  .describe('one alert route');

const alertsSchema = strict({
  listen: strict({
    host: host.default('127.0.0.1').describe('address to listen on'),
    port: port.default(9095).describe('port to listen on'),
    tls: strict({
      cert: secretRef.describe('certificate chain (PEM), leaf first'),
      key: secretRef.describe('its private key (PEM)'),
    })
      .optional()
      .describe(
        'serve HTTPS instead of HTTP (TLS 1.2 or later); without it, listen on loopback and publish through a TLS reverse proxy',
      ),
  }).describe('the Alertmanager webhook receiver'),
  auth: strict({
    bearerToken: secretRef.optional().describe('token expected in "Authorization: Bearer"'),
    basic: strict({
      user: text.describe('user expected in HTTP basic auth'),
      password: secretRef.describe('password expected in HTTP basic auth'),
    })
      .optional()
      .describe('HTTP basic auth'),
  })
    // The receiver starts workflows that may restart services: an unauthenticated one is not allowed.
    .refine((a) => a.bearerToken !== undefined || a.basic !== undefined, {
      error: 'give bearerToken or basic: the receiver must authenticate callers',
    })
    .describe('how callers authenticate'),
  routes: z.array(routeSchema).default([]).describe('first matching route wins'),
  publicUrl: httpUrl
    .optional()
    .describe(
      "the receiver's base URL as approvers' browsers reach it; approval notifications then link to its approval endpoint, `<publicUrl>/approve/<workflowId>?request=<id>`",
    ),
}).describe('alerts that start runbooks');

const scheduleSchema = strict({
  name: targetName.describe('schedule name (schedule id)'),
  runbook: runbook.describe('runbook to start'),
  cron: cron.describe('5-field cron expression (minute hour day-of-month month day-of-week) or @daily etc.'),
  timezone: timeZone.default('UTC').describe('IANA time zone of the cron expression'),
  jitterSeconds: seconds(0, 3_600).default(0).describe('random delay added to each start'),
  targets: z
    .union([z.array(targetName).min(1, { error: 'must list at least one target' }), targetSelection])
    .describe(
      'targets to run on, one run each, as one fleet run: a list of target names, `all`, or `label=<key>=<value>` (every target with that label, as when the schedule was last ensured)',
    ),
  maxConcurrent: count(1, 100)
    .default(FLEET_DEFAULTS.maxConcurrent)
    .describe("runs of the schedule's fleet going on at once"),
  maxFailures: count(1, 10_000)
    .default(FLEET_DEFAULTS.maxFailures)
    .describe(
      "after this many targets end badly (failed, needs-human, an error) the schedule's fleet starts no new run; the running ones finish",
    ),
}).describe('one schedule: one Temporal schedule starting a fleet over its targets');

/** Defaults shared with the workflows (src/shared/guard.ts), so a plan recorded without limits behaves alike. */
const limitsSchema = strict({
  cooldownSeconds: seconds(0, 86_400)
    .default(DEFAULT_LIMITS.cooldownSeconds)
    .describe(
      'after an action on a target, the same action there asks a person for this long, even when approval.unattended lists it (0: no cooldown)',
    ),
  actionsPerHour: count(1, 1_000)
    .default(DEFAULT_LIMITS.actionsPerHour)
    .describe(
      'actions on one target in any hour that may run unattended; past it every action asks a person, saying why',
    ),
  fleetActionsPerHour: count(1, 10_000)
    .default(DEFAULT_LIMITS.fleetActionsPerHour)
    .describe(
      'actions on all targets together in any hour that may run unattended; past it they ask a person',
    ),
  leaseWaitSeconds: seconds(10, 86_400)
    .default(DEFAULT_LIMITS.leaseWaitSeconds)
    .describe(
      'how long a state-changing step waits while another run acts on its target; then the run ends needs-human naming the holder',
    ),
}).describe('one actor per target, cooldown and blast-radius budget of state-changing steps');

const configObject = strict({
  version: z.literal(1, { error: 'must be 1 (the only config version)' }).describe('config format version'),
  defaultTarget: targetName.describe('target used when an alert, schedule or CLI call names none'),
  targets: z.array(targetSchema).min(1, { error: 'must list at least one target' }).describe('mail servers'),
  approvers: z
    .record(approverName, approverSchema)
    .default({})
    .describe('the people who may decide approvals, by name, with what proves who they are'),
  approverGroups: z
    .record(approverName, z.array(approverName).min(1, { error: 'must list at least one approver' }).max(100))
    .default({})
    .describe('named lists of approvers, used in approval policies as "group:<name>"'),
  notifications: notificationsSchema.optional(),
  alerts: alertsSchema.optional(),
  schedules: z.array(scheduleSchema).default([]).describe('runbooks started on a timetable'),
  limits: limitsSchema.prefault({}),
});

/** The whole file, with the cross-field rules (run when the structure is valid; validate.ts runs them always). */
export const configSchema = configObject.superRefine((config, ctx) => {
  for (const issue of crossFieldIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
});

/** The shape the schema accepts, before the cross-field rules, for the reference doc. */
export const configShapeSchema = configObject;

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type Target = Config['targets'][number];
export type MailServer = Target['mailServer'];
export type DockerEngine = Extract<MailServer, { kind: 'dms' }>['docker']['engine'];
export type SshEndpoint = z.infer<typeof sshEndpointSchema>;
export type Relay = Target['relay'];
/** A relay we administer over SSH (linux, windows). */
export type AdministeredRelay = Exclude<Relay, { flavour: 'provider' }>;
/** A relay we cannot log in to: checked over SMTP only. */
export type ProviderRelay = Extract<Relay, { flavour: 'provider' }>;

/** How a provider relay speaks TLS: as configured, else implicit on 465 (SMTPS) and STARTTLS elsewhere. */
export function providerRelayTls(relay: ProviderRelay): 'starttls' | 'implicit' {
  return relay.tls ?? (relay.port === 465 ? 'implicit' : 'starttls');
}

export function isProviderRelay(relay: Relay): relay is ProviderRelay {
  return relay.flavour === 'provider';
}
export type Canary = Target['canary'];
export type Notifications = NonNullable<Config['notifications']>;
export type Alerts = NonNullable<Config['alerts']>;
export type AlertRouteConfig = Alerts['routes'][number];
export type Schedule = Config['schedules'][number];
export type TargetApproval = Target['approval'];
export type Approver = Config['approvers'][string];
export type Limits = Config['limits'];
