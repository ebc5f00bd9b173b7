/**
 * Relay routing check (mission 9, seed 003), read only: for the canary's sender domain, which relay will
 * Postfix use (transport_maps for the recipient, then sender_dependent_relayhost_maps, then relayhost), is a
 * relay map file present but referenced by nothing (so its routes are silently ignored), and does Postfix
 * have SASL credentials for that relay. Every lookup is `postmap -q KEY type:/path`, as Postfix would do it.
 * Values from the SASL password maps are never kept: only whether a key was found.
 */
import { mailServerCommandsFor, type CatalogueCommand } from '../commands/index.js';
import { postmapKey } from '../commands/validate.js';
import type { Target } from '../config/schema.js';
import {
  addressDomain,
  parseMapList,
  parseNexthop,
  parsePostconfValues,
  parsePostmapQuery,
  parseStat,
  parseTransport,
  type MapRef,
  type PostmapResult,
} from '../parsers/index.js';
import type { HostTransport } from '../transports/types.js';
import type { StepOutcome } from '../shared/types.js';
import { mailServerHost, targetConfig } from './context.js';
import { outcome } from './outcome.js';
import { run, runOk, tail } from './run.js';

const ROUTING_PARAMETERS = [
  'relayhost',
  'sender_dependent_relayhost_maps',
  'transport_maps',
  'smtp_sasl_password_maps',
  // yes/no, never empty: keeps the last line of `postconf -h` non-empty.
  'smtp_sasl_auth_enable',
  'smtp_sender_dependent_authentication',
] as const;

type RoutingSettings = Record<(typeof ROUTING_PARAMETERS)[number], string>;

async function routingSettings(target: Target, host: HostTransport): Promise<RoutingSettings> {
  const r = await runOk(host, () =>
    mailServerCommandsFor(target.mailServer).postconfValues(ROUTING_PARAMETERS),
  );
  return { ...parsePostconfValues(r.stdout, ROUTING_PARAMETERS) } as RoutingSettings;
}

function validKey(key: string): boolean {
  try {
    postmapKey(key);
    return true;
  } catch {
    return false;
  }
}

export interface Lookup {
  map: string;
  key: string;
  /** found | not-found | error | skipped (map type not queried). */
  status: PostmapResult['status'] | 'skipped';
  /** The value found (never for password maps) or the error. */
  detail?: string;
}

/** Looks keys up in maps in Postfix's order (each key in every map, first hit wins). */
async function lookupFirst(
  host: HostTransport,
  build: (key: string, map: string) => CatalogueCommand,
  maps: readonly MapRef[],
  keys: readonly string[],
  secretValues: boolean,
): Promise<{ lookups: Lookup[]; hit?: Lookup & { value: string } }> {
  const lookups: Lookup[] = [];
  for (const m of maps.filter((x) => !x.queryable)) {
    lookups.push({ map: m.text, key: '*', status: 'skipped', detail: `map type ${m.type} is not queried` });
  }
  for (const key of keys.filter(validKey)) {
    for (const map of maps.filter((m) => m.queryable)) {
      const r = await run(host, () => build(key, map.text));
      const parsed: PostmapResult = r.ok
        ? parsePostmapQuery(r)
        : { status: 'error', message: `postmap exited ${String(r.exitCode)}` };
      if (parsed.status === 'found') {
        const lookup: Lookup = { map: map.text, key, status: 'found' };
        if (!secretValues) lookup.detail = parsed.value;
        lookups.push(lookup);
        return { lookups, hit: { ...lookup, value: parsed.value } };
      }
      const lookup: Lookup = { map: map.text, key, status: parsed.status };
      if (parsed.status === 'error') {
        // A password map's error output is not echoed: keep to what cannot carry a secret.
        lookup.detail = secretValues ? `postmap could not read ${map.text}` : parsed.message;
      }
      lookups.push(lookup);
    }
  }
  return { lookups };
}

export interface RelayRouteEvidence {
  sender: string;
  recipient: string;
  settings: RoutingSettings;
  lookups: Lookup[];
  route: {
    source: 'transport_maps' | 'sender_dependent_relayhost_maps' | 'relayhost' | 'direct';
    /** As Postfix will use it, e.g. "[relay.lab.test]:2526"; absent when mail goes to the recipient's MX. */
    nexthop?: string;
    host?: string;
    transport?: string;
    via?: string;
  };
  expectRelay: string;
  unreadableMaps: string[];
}

/** Which relay will mail from canary.from to canary.to take? ok when it is canary.expectRelay. */
export async function relayRoute(targetName: string): Promise<StepOutcome<RelayRouteEvidence>> {
  const target = await targetConfig(targetName);
  const host = await mailServerHost(target);
  const commands = mailServerCommandsFor(target.mailServer);
  const settings = await routingSettings(target, host);
  const sender = target.canary.from;
  const senderDomain = addressDomain(sender);
  const recipient = target.canary.to;
  const recipientDomain = addressDomain(recipient);
  const query = (key: string, map: string) => commands.postmapQuery(key, map);

  // 1. transport_maps, by recipient (address, then domain): an entry with a next hop overrules the rest.
  const transport = await lookupFirst(
    host,
    query,
    parseMapList(settings.transport_maps),
    [recipient, recipientDomain],
    false,
  );
  // 2. sender_dependent_relayhost_maps, by sender (address, then @domain).
  const sdrm = await lookupFirst(
    host,
    query,
    parseMapList(settings.sender_dependent_relayhost_maps),
    [sender, `@${senderDomain}`],
    false,
  );
  const lookups = [...transport.lookups, ...sdrm.lookups];

  let route: RelayRouteEvidence['route'] = { source: 'direct' };
  const t = transport.hit ? parseTransport(transport.hit.value) : undefined;
  if (transport.hit && t && t.nexthop !== '') {
    route = {
      source: 'transport_maps',
      nexthop: t.nexthop,
      transport: t.transport,
      via: `${transport.hit.map} ${transport.hit.key}`,
    };
  } else if (sdrm.hit && sdrm.hit.value.toUpperCase() !== 'DUNNO') {
    route = {
      source: 'sender_dependent_relayhost_maps',
      nexthop: sdrm.hit.value,
      via: `${sdrm.hit.map} ${sdrm.hit.key}`,
    };
  } else if (settings.relayhost.trim() !== '') {
    route = { source: 'relayhost', nexthop: settings.relayhost.trim(), via: 'relayhost' };
  }
  if (t && transport.hit && t.nexthop === '') route.transport = t.transport;
  const parsed = route.nexthop === undefined ? undefined : parseNexthop(route.nexthop);
  if (parsed) route.host = parsed.host;

  const unreadableMaps = lookups
    .filter((l) => l.status === 'error')
    .map((l) => `${l.map}: ${l.detail ?? ''}`);
  const evidence: RelayRouteEvidence = {
    sender,
    recipient,
    settings,
    lookups,
    route,
    expectRelay: target.canary.expectRelay,
    unreadableMaps,
  };
  const expected = target.canary.expectRelay.toLowerCase();
  const ok = route.host?.toLowerCase() === expected && unreadableMaps.length === 0;
  const what = `mail from ${senderDomain} to ${recipientDomain}`;
  const unread = unreadableMaps.length ? `; unreadable map(s): ${unreadableMaps.join('; ')}` : '';
  if (route.nexthop === undefined) {
    return outcome(
      false,
      `${what} goes directly to the MX of ${recipientDomain}, not through ${target.canary.expectRelay}: relayhost is empty and no sender_dependent_relayhost_maps or transport_maps entry matches (${[
        `sender_dependent_relayhost_maps = "${settings.sender_dependent_relayhost_maps}"`,
        `transport_maps = "${settings.transport_maps}"`,
      ].join(', ')})${unread}`,
      evidence,
    );
  }
  const how = `${route.nexthop} (from ${route.via ?? route.source})`;
  return outcome(
    ok,
    route.host?.toLowerCase() === expected
      ? `${what} goes through ${how}${unread}`
      : `${what} goes through ${how}, not the expected relay ${target.canary.expectRelay}${unread}`,
    evidence,
  );
}

export interface RelayMapFile {
  path: string;
  state: 'absent' | 'empty' | 'present' | 'not a regular file';
  referencedBy: string[];
}

export interface RelayMapsEvidence {
  configured: boolean;
  files: RelayMapFile[];
  referenced: string[];
  notInEffect: string[];
}

/** Map references by file name (hash:/x and lmdb:/x are the files /x.db and /x.lmdb, built from /x). */
function referencesOf(settings: RoutingSettings): Map<string, string[]> {
  const refs = new Map<string, string[]>();
  for (const param of ['sender_dependent_relayhost_maps', 'transport_maps'] as const) {
    for (const m of parseMapList(settings[param])) {
      const list = refs.get(m.name) ?? [];
      list.push(`${param} = ${m.text}`);
      refs.set(m.name, list);
    }
  }
  return refs;
}

/**
 * A relay map file (mailServer.relayMapFiles) that exists and has entries, while neither
 * sender_dependent_relayhost_maps nor transport_maps refers to it: its routes are not in effect.
 */
export async function relayMapsInEffect(targetName: string): Promise<StepOutcome<RelayMapsEvidence>> {
  const target = await targetConfig(targetName);
  const candidates = target.mailServer.relayMapFiles ?? [];
  if (candidates.length === 0) {
    return outcome(
      true,
      'no mailServer.relayMapFiles in the config: a relay map that is present but not in effect cannot be detected',
      { configured: false, files: [], referenced: [], notInEffect: [] },
    );
  }
  const host = await mailServerHost(target);
  const commands = mailServerCommandsFor(target.mailServer);
  const settings = await routingSettings(target, host);
  const refs = referencesOf(settings);
  const files: RelayMapFile[] = [];
  for (const path of candidates) {
    const r = await run(host, () => commands.fileStat(path, 'relayMapFiles'));
    const referencedBy = refs.get(path) ?? refs.get(path.replace(/\.(db|lmdb|cdb)$/, '')) ?? [];
    if (!r.ok) {
      if (/no such file/i.test(r.stderr)) {
        files.push({ path, state: 'absent', referencedBy });
        continue;
      }
      throw new Error(`stat ${path} on ${host.description} failed: ${tail(r.stderr, 300)}`);
    }
    const stat = parseStat(r.stdout);
    const state =
      stat.fileType === 'regular empty file'
        ? 'empty'
        : stat.fileType === 'regular file'
          ? 'present'
          : 'not a regular file';
    files.push({ path, state, referencedBy });
  }
  const notInEffect = files
    .filter((f) => f.state === 'present' && f.referencedBy.length === 0)
    .map((f) => f.path);
  const evidence: RelayMapsEvidence = {
    configured: true,
    files,
    referenced: [...refs.keys()],
    notInEffect,
  };
  if (notInEffect.length > 0) {
    return outcome(
      false,
      `relay map present but not in effect: ${notInEffect.join(', ')} exists, but neither sender_dependent_relayhost_maps ("${settings.sender_dependent_relayhost_maps}") nor transport_maps ("${settings.transport_maps}") references it, so Postfix ignores its routes`,
      evidence,
    );
  }
  return outcome(
    true,
    files
      .map((f) =>
        f.referencedBy.length ? `${f.path} in effect (${f.referencedBy.join(', ')})` : `${f.path} ${f.state}`,
      )
      .join('; '),
    evidence,
  );
}

export interface RelayCredentialsEvidence {
  saslAuthEnable: string;
  senderDependent: string;
  maps: string[];
  lookups: Lookup[];
  foundKey?: string;
}

/**
 * Postfix has a SASL login for the relay: smtp_sasl_auth_enable=yes and smtp_sasl_password_maps has an
 * entry for the sender (when smtp_sender_dependent_authentication=yes), its @domain, the next hop as
 * written, or the relay host. Only found / not found is kept: the password never leaves the host's output.
 */
export async function relayCredentials(
  targetName: string,
  nexthop: string,
): Promise<StepOutcome<RelayCredentialsEvidence>> {
  const target = await targetConfig(targetName);
  const host = await mailServerHost(target);
  const commands = mailServerCommandsFor(target.mailServer);
  const settings = await routingSettings(target, host);
  const maps = parseMapList(settings.smtp_sasl_password_maps);
  const evidence: RelayCredentialsEvidence = {
    saslAuthEnable: settings.smtp_sasl_auth_enable,
    senderDependent: settings.smtp_sender_dependent_authentication,
    maps: maps.map((m) => m.text),
    lookups: [],
  };
  if (settings.smtp_sasl_auth_enable !== 'yes') {
    return outcome(
      false,
      `smtp_sasl_auth_enable = ${settings.smtp_sasl_auth_enable}: Postfix does not log in to ${nexthop}`,
      evidence,
    );
  }
  if (maps.length === 0) {
    return outcome(false, `smtp_sasl_password_maps is empty: no credentials for ${nexthop}`, evidence);
  }
  const sender = target.canary.from;
  const parsed = parseNexthop(nexthop);
  const keys = [
    ...(settings.smtp_sender_dependent_authentication === 'yes' ? [sender, `@${addressDomain(sender)}`] : []),
    nexthop,
    ...(parsed ? [parsed.host] : []),
  ].filter((k, i, all) => all.indexOf(k) === i);
  const { lookups, hit } = await lookupFirst(
    host,
    (key, map) => commands.postmapQuery(key, map),
    maps,
    keys,
    true,
  );
  evidence.lookups = lookups;
  if (hit) {
    evidence.foundKey = hit.key;
    return outcome(true, `SASL credentials for ${nexthop} found under ${hit.key} in ${hit.map}`, evidence);
  }
  const errors = lookups.filter((l) => l.status === 'error').map((l) => l.detail ?? l.map);
  return outcome(
    false,
    `no SASL credentials for ${nexthop} in ${evidence.maps.join(', ')} (looked up ${keys.join(', ')})${
      errors.length ? `; ${errors.join('; ')}` : ''
    }`,
    evidence,
  );
}
