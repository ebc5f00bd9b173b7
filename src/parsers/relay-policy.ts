/**
 * Relay policy as Postfix's smtpd sees it: does a restriction list stop unauthenticated relaying, and do
 * the submission services of master.cf (587 `submission`, 465 `submissions`/`smtps`) demand SASL?
 * Pure functions of `postconf -h` values and parsed `postconf -M` services.
 */
import type { MasterService } from './postconf-master.js';
import { postconfList } from './postconf.js';

const UNAUTH_DESTINATION = new Set(['reject_unauth_destination', 'defer_unauth_destination']);

/**
 * True when the list refuses mail to other domains from clients it has not permitted: it holds
 * reject_unauth_destination or defer_unauth_destination (or a bare reject/defer), and no bare `permit`
 * comes before it (a `permit` ends the list for everyone). Lookup-table results (check_*_access) are not
 * evaluated.
 */
export function blocksUnauthRelay(list: readonly string[]): boolean {
  for (const r of list) {
    if (r === 'permit') return false;
    // A bare reject/defer refuses everyone who got this far: stricter still.
    if (UNAUTH_DESTINATION.has(r) || r === 'reject' || r === 'defer') return true;
  }
  return false;
}

/**
 * True when the list lets only SASL-authenticated clients through: it permits permit_sasl_authenticated,
 * ends in `reject` (or `defer`), and has no bare `permit`. permit_mynetworks may stay (the trusted networks
 * are audited on their own).
 */
export function requiresSasl(list: readonly string[]): boolean {
  const last = list[list.length - 1];
  return (
    list.includes('permit_sasl_authenticated') &&
    (last === 'reject' || last === 'defer') &&
    !list.includes('permit')
  );
}

/** `$name` or `${name}` as the whole value: a reference to another main.cf parameter. */
export function parameterReference(value: string): string | undefined {
  const m = /^\$(?:\{([a-z][a-z0-9_]*)\}|([a-z][a-z0-9_]*))$/.exec(value.trim());
  return m?.[1] ?? m?.[2];
}

const SUBMISSION_NAMES = new Set(['submission', 'submissions', 'smtps', '587', '465']);

/** The port a master.cf inet service name stands for, when it is a submission port. */
function submissionPort(name: string): 587 | 465 | undefined {
  const port = name.includes(':') ? name.slice(name.lastIndexOf(':') + 1) : name;
  if (!SUBMISSION_NAMES.has(port)) return undefined;
  return port === 'submission' || port === '587' ? 587 : 465;
}

/** inet smtpd services on 587 or 465 (by service name or host:port), in master.cf order. */
export function submissionServices(services: readonly MasterService[]): MasterService[] {
  return services.filter(
    (s) => s.type === 'inet' && s.command === 'smtpd' && submissionPort(s.name) !== undefined,
  );
}

export interface SubmissionAudit {
  readonly service: string;
  readonly port: 587 | 465;
  /** Effective smtpd_sasl_auth_enable (the -o override, else main.cf). */
  readonly saslAuthEnable: string;
  /** The effective client and relay restriction lists. */
  readonly clientRestrictions: string;
  readonly relayRestrictions: string;
  readonly problems: readonly string[];
}

/**
 * One submission service against the rule "AUTH is on and only authenticated clients may send".
 * `main` holds main.cf values for smtpd_sasl_auth_enable, smtpd_client_restrictions and
 * smtpd_relay_restrictions, plus any parameter an override refers to (`-o x=$mua_client_restrictions`).
 */
export function auditSubmission(
  service: MasterService,
  main: Readonly<Record<string, string>>,
): SubmissionAudit {
  const effective = (name: string): string => effectiveParameter(service, main, name);
  const saslAuthEnable = effective('smtpd_sasl_auth_enable') || 'no';
  const clientRestrictions = effective('smtpd_client_restrictions');
  const relayRestrictions = effective('smtpd_relay_restrictions');
  const problems: string[] = [];
  if (saslAuthEnable !== 'yes')
    problems.push(`smtpd_sasl_auth_enable=${saslAuthEnable} (AUTH is not offered)`);
  if (!requiresSasl(postconfList(clientRestrictions)) && !requiresSasl(postconfList(relayRestrictions))) {
    problems.push(
      'neither smtpd_client_restrictions nor smtpd_relay_restrictions is "permit_sasl_authenticated, reject": unauthenticated clients may send',
    );
  }
  return {
    service: service.name,
    port: submissionPort(service.name) ?? 587,
    saslAuthEnable,
    clientRestrictions,
    relayRestrictions,
    problems,
  };
}

/** A master.cf service bound to loopback only ("127.0.0.1:10025", "[::1]:10025", "localhost:10025"). */
export function isLoopbackService(name: string): boolean {
  return /^(?:127(?:\.\d{1,3}){3}|\[::1\]|localhost):/.test(name);
}

/**
 * The smtpd services that take mail from the network and are not submission: port 25's `smtp` (inet, or
 * postscreen's `smtpd pass` service) and any other inet smtpd not bound to loopback.
 */
export function publicSmtpdServices(services: readonly MasterService[]): MasterService[] {
  const submission = new Set(submissionServices(services));
  return services.filter(
    (s) =>
      s.command === 'smtpd' &&
      (s.type === 'inet' || s.type === 'pass') &&
      !isLoopbackService(s.name) &&
      !submission.has(s),
  );
}

/** The value a service runs with: its `-o` override, else main.cf (following one `$name` reference). */
export function effectiveParameter(
  service: MasterService | undefined,
  main: Readonly<Record<string, string>>,
  name: string,
): string {
  const value = service?.overrides[name] ?? main[name] ?? '';
  const ref = parameterReference(value);
  return ref === undefined ? value : (main[ref] ?? value);
}

export interface RelayRestrictionAudit {
  /** "main.cf" or the master.cf service name. */
  readonly where: string;
  readonly relayRestrictions: string;
  readonly recipientRestrictions: string;
  readonly blocksUnauthRelay: boolean;
}

/**
 * smtpd refuses relaying for a client it has not permitted when smtpd_relay_restrictions or
 * smtpd_recipient_restrictions blocks it (see blocksUnauthRelay). Checked for main.cf and for every public
 * smtpd service with its overrides.
 */
export function auditRelayRestrictions(
  services: readonly MasterService[],
  main: Readonly<Record<string, string>>,
): RelayRestrictionAudit[] {
  const one = (where: string, service?: MasterService): RelayRestrictionAudit => {
    const relayRestrictions = effectiveParameter(service, main, 'smtpd_relay_restrictions');
    const recipientRestrictions = effectiveParameter(service, main, 'smtpd_recipient_restrictions');
    return {
      where,
      relayRestrictions,
      recipientRestrictions,
      blocksUnauthRelay:
        blocksUnauthRelay(postconfList(relayRestrictions)) ||
        blocksUnauthRelay(postconfList(recipientRestrictions)),
    };
  };
  const overridden = publicSmtpdServices(services).filter(
    (s) =>
      s.overrides.smtpd_relay_restrictions !== undefined ||
      s.overrides.smtpd_recipient_restrictions !== undefined,
  );
  return [one('main.cf'), ...overridden.map((s) => one(`master.cf ${s.name}/${s.type}`, s))];
}
