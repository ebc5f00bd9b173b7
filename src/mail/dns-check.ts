/**
 * The DNS layer of the SMTP path, checked first because every layer above it needs names that resolve:
 * the submission host resolves; the mail domain has MX hosts that resolve, exactly one SPF record, a DMARC
 * policy and a DKIM key per selector; each MX address has a PTR name that resolves back to it
 * (forward-confirmed reverse DNS).
 * Read only, through a resolver the caller configures (the config's servers, or the system's).
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface DnsCheckSettings {
  /** IPv4[:port] servers; empty = the system resolver. */
  servers: readonly string[];
  domain: string;
  dkimSelectors: readonly string[];
  /** The submission host the canary uses: checked to resolve unless it is an address. */
  submissionHost: string;
  timeoutMs?: number;
}

export interface MxFinding {
  exchange: string;
  priority: number;
  addresses: string[];
  /** Reverse names per address, and whether one of them resolves back to the address. */
  ptr: Array<{ address: string; names: string[]; confirmed: boolean }>;
}

export interface DnsFindings {
  servers: string[];
  domain: string;
  submissionHost: { host: string; addresses: string[] };
  mx: MxFinding[];
  spf: string[];
  dmarc: string[];
  dkim: Array<{ selector: string; record?: string }>;
  problems: string[];
}

/** Lookup failures that mean "no such record" (a finding), as opposed to an unreachable server. */
const NO_RECORD = new Set(['ENOTFOUND', 'ENODATA', 'NOTFOUND', 'NODATA']);

export class DnsUnavailableError extends Error {}

type Lookup<T> = () => Promise<T>;

async function orNone<T>(what: string, lookup: Lookup<T[]>): Promise<T[]> {
  try {
    return await lookup();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (NO_RECORD.has(code)) return [];
    throw new DnsUnavailableError(`${what}: ${code || (err as Error).message}`);
  }
}

const txt = (chunks: string[][]): string[] => chunks.map((c) => c.join(''));
const cut = (s: string, max = 300): string => (s.length > max ? `${s.slice(0, max)}…` : s);

export async function checkDns(settings: DnsCheckSettings): Promise<DnsFindings> {
  const resolver = new Resolver({ timeout: settings.timeoutMs ?? 3000, tries: 2 });
  if (settings.servers.length > 0) resolver.setServers([...settings.servers]);
  const servers = resolver.getServers();
  const problems: string[] = [];
  const addressesOf = (name: string): Promise<string[]> => orNone(`A ${name}`, () => resolver.resolve4(name));

  const host = settings.submissionHost;
  const submissionHost = { host, addresses: isIP(host) ? [host] : await addressesOf(host) };
  if (submissionHost.addresses.length === 0) problems.push(`submission host ${host} does not resolve`);

  const domain = settings.domain;
  const mxRecords = await orNone(`MX ${domain}`, () => resolver.resolveMx(domain));
  if (mxRecords.length === 0) problems.push(`no MX record for ${domain}`);
  const mx: MxFinding[] = [];
  for (const record of mxRecords.sort((a, b) => a.priority - b.priority).slice(0, 5)) {
    const addresses = await addressesOf(record.exchange);
    if (addresses.length === 0) problems.push(`MX host ${record.exchange} has no A record`);
    const ptr = [];
    for (const address of addresses.slice(0, 3)) {
      const names = await orNone(`PTR ${address}`, () => resolver.reverse(address));
      let confirmed = false;
      for (const name of names.slice(0, 3)) if ((await addressesOf(name)).includes(address)) confirmed = true;
      if (names.length === 0) problems.push(`no PTR record for ${record.exchange}'s address ${address}`);
      else if (!confirmed)
        problems.push(`PTR of ${address} (${names.join(', ')}) does not resolve back to ${address}`);
      ptr.push({ address, names, confirmed });
    }
    mx.push({ exchange: record.exchange, priority: record.priority, addresses, ptr });
  }

  const spf = txt(await orNone(`TXT ${domain}`, () => resolver.resolveTxt(domain))).filter((t) =>
    /^v=spf1(\s|$)/i.test(t),
  );
  if (spf.length === 0) problems.push(`no SPF record (TXT "v=spf1 ...") for ${domain}`);
  if (spf.length > 1)
    problems.push(`${spf.length} SPF records for ${domain}: receivers treat that as an error`);

  const dmarcName = `_dmarc.${domain}`;
  const dmarc = txt(await orNone(`TXT ${dmarcName}`, () => resolver.resolveTxt(dmarcName))).filter((t) =>
    /^v=DMARC1\s*(;|$)/i.test(t),
  );
  if (dmarc.length === 0) problems.push(`no DMARC record (TXT "v=DMARC1; p=...") at ${dmarcName}`);
  else if (!dmarc.some((t) => /(^|;)\s*p=(none|quarantine|reject)\s*(;|$)/i.test(t)))
    problems.push(`DMARC record at ${dmarcName} has no valid p= policy`);

  const dkim: DnsFindings['dkim'] = [];
  for (const selector of settings.dkimSelectors) {
    const name = `${selector}._domainkey.${domain}`;
    const record = txt(await orNone(`TXT ${name}`, () => resolver.resolveTxt(name))).find((t) =>
      /(^|;)\s*p=[A-Za-z0-9+/=]{16,}/.test(t),
    );
    if (record === undefined) problems.push(`no DKIM key (TXT with p=...) at ${name}`);
    dkim.push({ selector, ...(record !== undefined && { record: cut(record, 120) }) });
  }

  return {
    servers,
    domain,
    submissionHost,
    mx,
    spf: spf.map((t) => cut(t)),
    dmarc: dmarc.map((t) => cut(t)),
    dkim,
    problems,
  };
}
