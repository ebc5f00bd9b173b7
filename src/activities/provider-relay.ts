/**
 * A provider relay (Amazon SES, Mailgun, an ISP smarthost: flavour provider, no SSH): what we can know
 * without logging in to it. Its SMTP face as the mail server meets it (posttls-finger with STARTTLS, run on
 * the mail server), and whether the configured credentials log in (from the worker, where the secret lives:
 * EHLO, STARTTLS, AUTH, QUIT; no mail is sent). Neither ever opens SSH to the relay.
 */
import { isProviderRelay, providerRelayTls, type ProviderRelay, type Target } from '../config/schema.js';
import { probeSubmissionPath, type PathProbeResult } from '../mail/path-probe.js';
import { parseSmtpTlsProbe, type SmtpTlsProbe } from '../parsers/index.js';
import type { StepOutcome } from '../shared/types.js';
import { onMailServer, secret, targetConfig } from './context.js';
import { configError, outcome } from './outcome.js';
import { runOk } from './run.js';

/** How long each probe may talk to the relay. */
const PROBE_SECONDS = 10;

function providerRelay(target: Target): ProviderRelay {
  if (!isProviderRelay(target.relay))
    throw configError(`target ${target.name}: the relay is not a provider relay (flavour provider)`);
  return target.relay;
}

export interface ProviderRelayStatus extends SmtpTlsProbe {
  /** "[host]:port", as Postfix writes a relayhost. */
  relay: string;
}

/** "TLSv1.3 (certificate Trusted)" from posttls-finger's "Trusted TLS connection established ... TLSv1.3 with ...". */
function tlsSummary(tls: string): string {
  const [trust, protocol] = tls.split(' ');
  return `${protocol ?? '?'} (certificate ${trust ?? '?'} by the mail server's CA store)`;
}

/** What a plain-text answer on an implicit TLS port, or silence on a STARTTLS one, usually means. */
function tlsModeHint(tls: 'starttls' | 'implicit', problem: string): string {
  if (tls === 'implicit' && /wrong version number|packet length too long|unknown protocol/i.test(problem))
    return ': the relay answered in plain text, so this port wants STARTTLS (relay.tls: starttls)';
  if (tls === 'starttls' && /timeout while reading server greeting|no SMTP greeting/i.test(problem))
    return ': the relay does not greet in plain text, so this port may want implicit TLS (relay.tls: implicit, usually 465)';
  return '';
}

/**
 * The relay's banner, TLS (STARTTLS offered and its handshake, or implicit TLS from the first byte on an
 * SMTPS port: relay.tls) and the AUTH mechanisms it offers, probed from the mail server. A problem when it
 * does not answer, its TLS does not come up, or it offers no AUTH while the config holds credentials for it.
 */
export async function providerRelayStatus(targetName: string): Promise<StepOutcome<ProviderRelayStatus>> {
  const { target, host, commands } = await onMailServer(targetName);
  const relayConfig = providerRelay(target);
  const tls = providerRelayTls(relayConfig);
  const relayHost = target.canary.expectRelay;
  const relay = `[${relayHost}]:${relayConfig.port}`;
  const r = await runOk(host, () => commands.smtpTlsProbe(relayHost, relayConfig.port, PROBE_SECONDS, tls));
  const probe = parseSmtpTlsProbe(`${r.stdout}\n${r.stderr}`, tls);
  const evidence = { ...probe, relay };
  const problems: string[] = [];
  if (tls === 'implicit' && probe.tlsProblem !== undefined)
    problems.push(`implicit TLS handshake failed: ${probe.tlsProblem}${tlsModeHint(tls, probe.tlsProblem)}`);
  else if (probe.problem !== undefined)
    return outcome(
      false,
      `provider relay ${relay} does not answer SMTP: ${probe.problem}${tlsModeHint(tls, probe.problem)}`,
      evidence,
    );
  else if (tls === 'starttls' && !probe.starttlsOffered) problems.push('offers no STARTTLS');
  else if (probe.tlsProblem !== undefined) problems.push(`TLS handshake failed: ${probe.tlsProblem}`);
  if (relayConfig.sasl && probe.ehloOk && probe.authMechanisms.length === 0) problems.push('offers no AUTH');
  const facts = [
    probe.greeting !== undefined ? `greets "${probe.greeting}"` : undefined,
    probe.tls !== undefined
      ? `${tls === 'implicit' ? 'implicit TLS' : 'STARTTLS'} ${tlsSummary(probe.tls)}`
      : undefined,
    probe.authMechanisms.length ? `AUTH ${probe.authMechanisms.join(' ')}` : 'no AUTH offered',
  ].filter((f): f is string => f !== undefined);
  return problems.length
    ? outcome(false, `provider relay ${relay} ${problems.join('; ')} (${facts.join('; ')})`, evidence)
    : outcome(true, `provider relay ${relay} ${facts.join('; ')}`, evidence);
}

export interface ProviderLoginEvidence {
  relay: string;
  /** False when the config holds no credentials for the relay (nothing to log in with). */
  checked: boolean;
  user?: string;
  /** Layers reached and, when one failed, which and why; the transcript shows no credentials. */
  probe?: PathProbeResult;
}

/**
 * Do the configured credentials (relay.sasl) log in? From the worker, over STARTTLS or implicit TLS (relay.tls;
 * implicit on 465) with the certificate verified (relay.ca, relay.servername): the password is never sent in
 * clear or to an unverified server.
 * Ok without credentials (nothing to check); a problem when the relay cannot be reached from here or
 * refuses the login. The password is a remembered secret: no result, error or log line carries it.
 */
export async function providerRelayLogin(targetName: string): Promise<StepOutcome<ProviderLoginEvidence>> {
  const target = await targetConfig(targetName);
  const relayConfig = providerRelay(target);
  const relayHost = target.canary.expectRelay;
  const relay = `${relayHost}:${relayConfig.port}`;
  const sasl = relayConfig.sasl;
  if (!sasl)
    return outcome(true, `no relay.sasl in the config: the login to ${relay} is not checked`, {
      relay,
      checked: false,
    });
  const probe = await probeSubmissionPath(
    {
      host: relayHost,
      port: relayConfig.port,
      tls: providerRelayTls(relayConfig),
      ...(relayConfig.ca && { ca: await secret(relayConfig.ca) }),
      ...(relayConfig.servername && { servername: relayConfig.servername }),
      user: sasl.user,
      password: await secret(sasl.password),
      timeoutMs: PROBE_SECONDS * 1000,
      configKeys: { tls: 'relay.ca and relay.servername', password: 'relay.sasl' },
    },
    'auth',
  );
  const evidence: ProviderLoginEvidence = { relay, checked: true, user: sasl.user, probe };
  if (probe.failed)
    return outcome(
      false,
      `login to ${relay} as ${sasl.user} failed (${probe.failed.layer}): ${probe.failed.message}${probe.failed.hint ? ` (${probe.failed.hint})` : ''}`,
      evidence,
    );
  return outcome(true, `login to ${relay} as ${sasl.user} works (${probe.auth?.reply ?? '235'})`, evidence);
}
