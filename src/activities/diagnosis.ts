/**
 * SMTP path diagnosis, from where the worker runs (where a mail client would be): the DNS layer, then the
 * submission connection one layer at a time. Findings are outcomes (ok or not), never retried failures;
 * only a DNS server that does not answer at all is retried.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Target } from '../config/schema.js';
import { checkDns, DnsUnavailableError, type DnsFindings } from '../mail/dns-check.js';
import { probeSubmissionPath, type PathLayer, type PathProbeResult } from '../mail/path-probe.js';
import { recipientDomain } from '../parsers/index.js';
import type { StepOutcome } from '../shared/types.js';
import { secret, targetConfig } from './context.js';
import { outcome } from './outcome.js';

function dnsSettings(target: Target) {
  const d = target.diagnosis;
  return {
    servers: d?.dnsServers ?? [],
    domain: d?.domain ?? recipientDomain(target.canary.from),
    dkimSelectors: d?.dkimSelectors ?? ['mail'],
    submissionHost: target.canary.submission.host,
  };
}

/** MX (and their forward-confirmed PTR), SPF, DMARC, DKIM of the mail domain; the submission host resolves. */
export async function dnsRecords(targetName: string): Promise<StepOutcome<DnsFindings>> {
  const target = await targetConfig(targetName);
  const settings = dnsSettings(target);
  let findings: DnsFindings;
  try {
    findings = await checkDns(settings);
  } catch (err) {
    if (err instanceof DnsUnavailableError)
      throw ApplicationFailure.retryable(
        `DNS servers ${settings.servers.join(', ') || '(system)'} did not answer: ${err.message}`,
        'Unreachable',
      );
    throw err;
  }
  const ok = findings.problems.length === 0;
  const mx = findings.mx.map((m) => m.exchange).join(', ');
  return outcome(
    ok,
    ok
      ? `${findings.domain}: MX ${mx} (PTR confirmed), SPF, DMARC and DKIM (${settings.dkimSelectors.join(', ')}) present`
      : `${findings.domain}: ${findings.problems.join('; ')}`,
    findings,
  );
}

const LAYER_SUMMARY: Record<PathLayer, (r: PathProbeResult) => string> = {
  tcp: (r) => `TCP connect to ${r.tcp?.remote} in ${r.tcp?.ms} ms`,
  tls: (r) =>
    `${r.tls?.protocol} ${r.tls?.cipher}, certificate for ${r.tls?.subject} by ${r.tls?.issuer} verified, ` +
    `${r.tls?.daysLeft} days left`,
  ehlo: (r) =>
    `EHLO: ${r.ehlo?.extensions.length} extensions, AUTH ${r.ehlo?.authMechanisms.join(' ') || 'none'}`,
  auth: (r) => `AUTH ${r.auth?.mechanism} accepted: ${r.auth?.reply}`,
};

/** The canary's submission connection up to `layer` (tcp, tls, ehlo, auth); ok when that layer works. */
export async function submissionLayer(
  targetName: string,
  layer: PathLayer,
): Promise<StepOutcome<PathProbeResult>> {
  const target = await targetConfig(targetName);
  const s = target.canary.submission;
  const result = await probeSubmissionPath(
    {
      host: s.host,
      port: s.port,
      tls: s.tls,
      ...(s.ca && { ca: await secret(s.ca) }),
      ...(s.servername && { servername: s.servername }),
      ...(layer === 'auth' && { user: s.user, password: await secret(s.password) }),
      timeoutMs: 15_000,
    },
    layer,
  );
  const where = `${s.host}:${s.port} (${s.tls})`;
  if (result.failed) {
    const { message, hint } = result.failed;
    return outcome(false, `${where}: ${message}${hint ? ` (${hint})` : ''}`, result);
  }
  return outcome(true, `${where}: ${LAYER_SUMMARY[layer](result)}`, result);
}
