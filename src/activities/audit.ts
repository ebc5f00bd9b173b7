/**
 * Open-relay audit, read only: whom Postfix trusts (mynetworks), whether its restrictions stop
 * unauthenticated relaying, whether the submission ports demand AUTH, whether the container shares the
 * host's network, and, when the config names the server's public SMTP port, a live
 * unauthenticated relay attempt from the worker's side (no DATA: nothing is ever queued).
 *
 * An SMTP session from inside the container would prove nothing: mynetworks trusts 127.0.0.0/8.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { probeRelay, RelayProbeError } from '../mail/relay-probe.js';
import {
  addressDomain,
  auditRelayRestrictions,
  auditSubmission,
  effectiveParameter,
  formatReply,
  parameterReference,
  parseNetworkList,
  parsePostconfMaster,
  parsePostconfValues,
  publicSmtpdServices,
  relayAnswer,
  submissionServices,
  type MasterService,
  type NetworkEntry,
  type RelayAnswer,
  type RelayRestrictionAudit,
  type SubmissionAudit,
} from '../parsers/index.js';
import type { StepOutcome } from '../shared/types.js';
import { onMailServer, targetConfig } from './context.js';
import { outcome } from './outcome.js';
import { runOk } from './run.js';
import { mailServerRuntime, type NetworkingEvidence } from './server-runtime.js';

const MAIN_PARAMETERS = [
  'mynetworks',
  'smtpd_relay_restrictions',
  'smtpd_recipient_restrictions',
  'smtpd_client_restrictions',
  // yes/no, never empty: keeps the last line of `postconf -h` non-empty.
  'smtpd_sasl_auth_enable',
] as const;

interface SmtpdPolicy {
  main: Record<string, string>;
  services: MasterService[];
  /** The kind's way to narrow a too-wide mynetworks (the catalogue's; '' for plain Postfix). */
  wideTrustFix: string;
}

/** main.cf values the audit needs (plus any `$name` a relevant override refers to) and the master.cf services. */
async function smtpdPolicy(targetName: string): Promise<SmtpdPolicy> {
  const { host, commands } = await onMailServer(targetName);
  const [values, master] = await Promise.all([
    runOk(host, () => commands.postconfValues(MAIN_PARAMETERS)),
    runOk(host, () => commands.postconfMaster()),
  ]);
  const main: Record<string, string> = { ...parsePostconfValues(values.stdout, MAIN_PARAMETERS) };
  const services = parsePostconfMaster(master.stdout);
  const relevant = [...submissionServices(services), ...publicSmtpdServices(services)];
  const refs = [
    ...new Set(
      relevant
        .flatMap((s) => Object.values(s.overrides))
        .map(parameterReference)
        .filter((r): r is string => r !== undefined && !(r in main)),
    ),
  ]
    .sort()
    .slice(0, 20);
  if (refs.length > 0) {
    const extra = await runOk(host, () => commands.postconfValues(refs));
    // An empty last value would be dropped by the line split: read them one per line, padding the tail.
    const got = extra.stdout.split('\n');
    refs.forEach((r, i) => (main[r] = (got[i] ?? '').trim()));
  }
  return { main, services, wideTrustFix: commands.wideTrustFix };
}

export interface TrustedNetworksEvidence {
  /** Every list entry with where it is set, how far it trusts, and why it was flagged. */
  entries: Array<NetworkEntry & { where: string }>;
  flagged: string[];
}

/** mynetworks in main.cf and in `-o mynetworks=` of every public smtpd: no wide or public ranges. */
export async function trustedNetworks(targetName: string): Promise<StepOutcome<TrustedNetworksEvidence>> {
  const { main, services, wideTrustFix } = await smtpdPolicy(targetName);
  const lists = [
    { where: 'main.cf mynetworks', value: main.mynetworks ?? '' },
    ...publicSmtpdServices(services)
      .filter((s) => s.overrides.mynetworks !== undefined)
      .map((s) => ({
        where: `master.cf ${s.name}/${s.type} -o mynetworks`,
        value: effectiveParameter(s, main, 'mynetworks'),
      })),
  ];
  const entries = lists.flatMap((l) => parseNetworkList(l.value).map((e) => ({ ...e, where: l.where })));
  const flagged = entries.filter((e) => e.flagged).map((e) => `${e.where}: ${e.text} ${e.reason}`);
  const kindHint = wideTrustFix ? `. ${wideTrustFix}` : '';
  return outcome(
    flagged.length === 0,
    flagged.length
      ? `mynetworks trusts too much: ${flagged.join('; ')}${kindHint}`
      : entries.length
        ? `mynetworks trusts only ${entries.map((e) => e.text).join(', ')} (loopback, single hosts, narrow private ranges)`
        : 'mynetworks is empty: it trusts no network (as docker-mailserver with PERMIT_DOCKER=none)',
    { entries, flagged },
  );
}

export interface RelayRestrictionsEvidence {
  audits: RelayRestrictionAudit[];
}

/** smtpd_relay_restrictions / smtpd_recipient_restrictions refuse relaying for clients not permitted. */
export async function relayRestrictions(targetName: string): Promise<StepOutcome<RelayRestrictionsEvidence>> {
  const { main, services } = await smtpdPolicy(targetName);
  const audits = auditRelayRestrictions(services, main);
  const open = audits.filter((a) => !a.blocksUnauthRelay);
  return outcome(
    open.length === 0,
    open.length
      ? `no reject_unauth_destination/defer_unauth_destination in effect for ${open
          .map((a) => `${a.where} (relay: "${a.relayRestrictions}", recipient: "${a.recipientRestrictions}")`)
          .join('; ')}`
      : `relaying refused to clients not permitted (${audits.map((a) => a.where).join(', ')})`,
    { audits },
  );
}

export interface SubmissionAuthEvidence {
  services: SubmissionAudit[];
}

/** master.cf submission services (587 submission, 465 submissions/smtps) turn AUTH on and require it. */
export async function submissionAuth(targetName: string): Promise<StepOutcome<SubmissionAuthEvidence>> {
  const { main, services } = await smtpdPolicy(targetName);
  const audits = submissionServices(services).map((s) => auditSubmission(s, main));
  const bad = audits.filter((a) => a.problems.length > 0);
  if (audits.length === 0) {
    return outcome(true, 'no submission service (587/465) in master.cf: nothing to audit', {
      services: audits,
    });
  }
  return outcome(
    bad.length === 0,
    bad.length
      ? `submission without required AUTH: ${bad.map((a) => `${a.service} (${a.port}): ${a.problems.join(', ')}`).join('; ')}`
      : `${audits.map((a) => `${a.service} (${a.port})`).join(', ')}: AUTH enabled and required`,
    { services: audits },
  );
}

export type { NetworkingEvidence } from './server-runtime.js';

/**
 * A DMS container on the host's network (network_mode host) exposes every port it listens on to the host's
 * networks, with no published-port list in between.
 */
export async function mailServerNetworking(targetName: string): Promise<StepOutcome<NetworkingEvidence>> {
  return mailServerRuntime(await targetConfig(targetName)).networking();
}

export interface RelayProbeEvidence {
  skipped?: string;
  host?: string;
  port?: number;
  from?: string;
  to?: string;
  localAddress?: string;
  answer?: RelayAnswer | 'mail-refused' | 'no-greeting';
  reply?: string;
  transcript?: string[];
}

/**
 * From the worker, unauthenticated, to the server's public SMTP port (audit.smtpHost/smtpPort): MAIL FROM
 * and RCPT TO canary.to, an outside address. A 2xx to RCPT is an open relay. Skipped (and said so) when
 * the config gives no port, or when canary.to is in the sender's own domain (then a 250 proves nothing).
 */
export async function openRelayProbe(targetName: string): Promise<StepOutcome<RelayProbeEvidence>> {
  const target = await targetConfig(targetName);
  const port = target.audit?.smtpPort;
  if (port === undefined) {
    const skipped =
      'live probe not run: the config has no audit.smtpPort (the mail server port 25 as the worker reaches it)';
    return outcome(true, skipped, { skipped });
  }
  const host = target.audit?.smtpHost ?? target.canary.submission.host;
  const outside = target.canary.to;
  if (addressDomain(outside) === addressDomain(target.canary.from)) {
    const skipped = `live probe not run: canary.to (${outside}) is in the mail server's own domain, so accepting it would not show relaying`;
    return outcome(true, skipped, { skipped });
  }
  let result;
  try {
    result = await probeRelay({ host, port, from: outside, to: outside });
  } catch (err) {
    if (err instanceof RelayProbeError) {
      throw ApplicationFailure.retryable(err.message, 'Unreachable', { transcript: err.transcript });
    }
    throw err;
  }
  const evidence: RelayProbeEvidence = {
    host,
    port,
    from: outside,
    to: outside,
    ...(result.localAddress && { localAddress: result.localAddress }),
    transcript: result.transcript,
  };
  const where = `${host}:${port}`;
  if (result.greeting?.code !== 220) {
    const reply = result.greeting ? formatReply(result.greeting) : 'nothing';
    return outcome(true, `${where} did not greet with 220 (${reply}): it accepts no mail from us`, {
      ...evidence,
      answer: 'no-greeting',
      reply,
    });
  }
  if (!result.rcpt) {
    const reply = result.mail ? formatReply(result.mail) : 'nothing';
    return outcome(true, `${where} refused MAIL FROM:<${outside}> (${reply}) before any relaying`, {
      ...evidence,
      answer: 'mail-refused',
      reply,
    });
  }
  const answer = relayAnswer(result.rcpt);
  const reply = formatReply(result.rcpt);
  const summaries: Record<RelayAnswer, string> = {
    relayed: `OPEN RELAY: ${where} accepted RCPT TO:<${outside}> from an unauthenticated client (${reply})`,
    'relay-denied': `${where} refuses unauthenticated relaying (${reply})`,
    'refused-otherwise': `${where} refused RCPT TO:<${outside}> for another reason (${reply}); not relayed`,
  };
  return outcome(answer !== 'relayed', summaries[answer], { ...evidence, answer, reply });
}
