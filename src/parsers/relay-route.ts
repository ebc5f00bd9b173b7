/**
 * Which relay Postfix will use for a message, and whether it can log in there, decided the way Postfix
 * decides it: transport_maps for the recipient (address, then domain) wins when its entry names a next hop;
 * then sender_dependent_relayhost_maps for the sender (address, then @domain); then relayhost; otherwise the
 * recipient's MX. Each map is searched key by key, every map for a key before the next key, first hit wins.
 *
 * Pure: the lookups come from a `PostmapLookup` function (the activity runs `postmap -q KEY MAP` on the mail
 * server) or from a pre-fetched table (`tableLookup`). Values of password maps are never kept, only
 * whether a key was found.
 */
import { postmapKey } from '../commands/validate.js';
import type { StepOutcome } from '../shared/types.js';
import { parsePostconfValues } from './postconf.js';
import {
  redactInlineTables,
  addressDomain,
  parseMapList,
  parseNexthop,
  parseTransport,
  type MapRef,
  type PostmapResult,
} from './postfix-maps.js';

/** The parameters the routing decision reads, in the order `postconf -h` is asked for them. */
export const ROUTING_PARAMETERS = [
  'relayhost',
  'sender_dependent_relayhost_maps',
  'transport_maps',
  'smtp_sasl_password_maps',
  // yes/no, never empty: keeps the last line of `postconf -h` non-empty.
  'smtp_sasl_auth_enable',
  'smtp_sender_dependent_authentication',
] as const;

export type RoutingSettings = Record<(typeof ROUTING_PARAMETERS)[number], string>;

/**
 * `postconf -h` output for ROUTING_PARAMETERS. The password table's inline data (`static:user:password`,
 * `inline:{...}`) is hidden here, before the settings can reach evidence, a summary or a log.
 */
export function parseRoutingSettings(postconfOutput: string): RoutingSettings {
  const settings = { ...parsePostconfValues(postconfOutput, ROUTING_PARAMETERS) } as RoutingSettings;
  settings.smtp_sasl_password_maps = redactInlineTables(settings.smtp_sasl_password_maps);
  return settings;
}

/** Answers `postmap -q key map`; may be asynchronous (a command on the mail server). */
export type PostmapLookup = (key: string, map: MapRef) => PostmapResult | Promise<PostmapResult>;

/** Pre-fetched answers, by map text (e.g. "texthash:/etc/postfix/relayhost_map") and key; absent = not found. */
export type LookupTable = Readonly<Record<string, Readonly<Record<string, PostmapResult>>>>;

export function tableLookup(table: LookupTable): PostmapLookup {
  return (key, map) => table[map.text]?.[key] ?? { status: 'not-found' };
}

export interface Lookup {
  map: string;
  key: string;
  /** found | not-found | error | skipped (map type not queried). */
  status: PostmapResult['status'] | 'skipped';
  /** The value found (never for password maps) or the error. */
  detail?: string;
}

export interface MapSearch {
  lookups: Lookup[];
  /** The first key found; value is absent for password maps. */
  hit?: { map: string; key: string; value?: string };
}

/** A key postmap would be refused (whitespace, control characters...) is not looked up. */
function validKey(key: string): boolean {
  try {
    postmapKey(key);
    return true;
  } catch {
    return false;
  }
}

/**
 * Looks keys up in maps in Postfix's order (each key in every map, first hit wins). Maps of a type the
 * catalogue does not query (proxy:, mysql:, ...) are listed as skipped. With secretValues (password maps)
 * neither the value found nor postmap's error text is kept.
 */
async function searchMaps(
  maps: readonly MapRef[],
  keys: readonly string[],
  lookup: PostmapLookup,
  secretValues = false,
): Promise<MapSearch> {
  const lookups: Lookup[] = [];
  for (const m of maps.filter((x) => !x.queryable)) {
    lookups.push({ map: m.text, key: '*', status: 'skipped', detail: `map type ${m.type} is not queried` });
  }
  for (const key of keys.filter(validKey)) {
    for (const map of maps.filter((m) => m.queryable)) {
      const answer = await lookup(key, map);
      const entry: Lookup = { map: map.text, key, status: answer.status };
      if (answer.status === 'found') {
        if (!secretValues) entry.detail = answer.value;
        lookups.push(entry);
        return { lookups, hit: { map: map.text, key, ...(!secretValues && { value: answer.value }) } };
      }
      if (answer.status === 'error') {
        // A password map's error output is not echoed: keep to what cannot carry a secret.
        entry.detail = secretValues ? `postmap could not read ${map.text}` : answer.message;
      }
      lookups.push(entry);
    }
  }
  return { lookups };
}

/** transport(5) keys for a recipient: the full address, then its domain. */
function transportKeys(recipient: string): string[] {
  return [recipient, addressDomain(recipient)];
}

/** sender_dependent_relayhost_maps keys for a sender: the full address, then @domain. */
function senderRelayKeys(sender: string): string[] {
  return [sender, `@${addressDomain(sender)}`];
}

export interface RelayRoute {
  source: 'transport_maps' | 'sender_dependent_relayhost_maps' | 'relayhost' | 'direct';
  /** As Postfix will use it, e.g. "[relay.lab.test]:2526"; absent when mail goes to the recipient's MX. */
  nexthop?: string;
  host?: string;
  transport?: string;
  via?: string;
}

/**
 * The precedence itself, given the first transport_maps and sender_dependent_relayhost_maps hits (with
 * their values). A transport entry without a next hop ("smtp:", "discard:") only names the transport;
 * a sender-dependent DUNNO means "no entry".
 */
export function chooseRelayRoute(
  relayhost: string,
  transportHit: MapSearch['hit'],
  senderRelayHit: MapSearch['hit'],
): RelayRoute {
  let route: RelayRoute = { source: 'direct' };
  const t = transportHit?.value === undefined ? undefined : parseTransport(transportHit.value);
  if (transportHit && t && t.nexthop !== '') {
    route = {
      source: 'transport_maps',
      nexthop: t.nexthop,
      transport: t.transport,
      via: `${transportHit.map} ${transportHit.key}`,
    };
  } else if (senderRelayHit?.value !== undefined && senderRelayHit.value.toUpperCase() !== 'DUNNO') {
    route = {
      source: 'sender_dependent_relayhost_maps',
      nexthop: senderRelayHit.value,
      via: `${senderRelayHit.map} ${senderRelayHit.key}`,
    };
  } else if (relayhost.trim() !== '') {
    route = { source: 'relayhost', nexthop: relayhost.trim(), via: 'relayhost' };
  }
  if (t && t.nexthop === '') route.transport = t.transport;
  const parsed = route.nexthop === undefined ? undefined : parseNexthop(route.nexthop);
  if (parsed) route.host = parsed.host;
  return route;
}

export interface RelayRouteEvidence {
  sender: string;
  recipient: string;
  settings: RoutingSettings;
  lookups: Lookup[];
  route: RelayRoute;
  expectRelay: string;
  unreadableMaps: string[];
}

/** Looks the message up as Postfix would (transport_maps, then sender_dependent_relayhost_maps) and picks the route. */
export async function resolveRelayRoute(
  settings: RoutingSettings,
  message: { sender: string; recipient: string },
  lookup: PostmapLookup,
): Promise<Pick<RelayRouteEvidence, 'lookups' | 'route' | 'unreadableMaps'>> {
  const transport = await searchMaps(
    parseMapList(settings.transport_maps),
    transportKeys(message.recipient),
    lookup,
  );
  const senderRelay = await searchMaps(
    parseMapList(settings.sender_dependent_relayhost_maps),
    senderRelayKeys(message.sender),
    lookup,
  );
  const lookups = [...transport.lookups, ...senderRelay.lookups];
  const route = chooseRelayRoute(settings.relayhost, transport.hit, senderRelay.hit);
  const unreadableMaps = lookups
    .filter((l) => l.status === 'error')
    .map((l) => `${l.map}: ${l.detail ?? ''}`);
  return { lookups, route, unreadableMaps };
}

/** ok when the route's host is the expected relay (case-insensitive) and every map could be read. */
export function relayRouteOutcome(evidence: RelayRouteEvidence): StepOutcome<RelayRouteEvidence> {
  const { route, settings, expectRelay, unreadableMaps } = evidence;
  const senderDomain = addressDomain(evidence.sender);
  const recipientDomain = addressDomain(evidence.recipient);
  const throughExpected = route.host?.toLowerCase() === expectRelay.toLowerCase();
  const what = `mail from ${senderDomain} to ${recipientDomain}`;
  const unread = unreadableMaps.length ? `; unreadable map(s): ${unreadableMaps.join('; ')}` : '';
  if (route.nexthop === undefined) {
    const maps = [
      `sender_dependent_relayhost_maps = "${settings.sender_dependent_relayhost_maps}"`,
      `transport_maps = "${settings.transport_maps}"`,
    ].join(', ');
    return {
      ok: false,
      summary: `${what} goes directly to the MX of ${recipientDomain}, not through ${expectRelay}: relayhost is empty and no sender_dependent_relayhost_maps or transport_maps entry matches (${maps})${unread}`,
      evidence,
    };
  }
  const how = `${route.nexthop} (from ${route.via ?? route.source})`;
  return {
    ok: throughExpected && unreadableMaps.length === 0,
    summary: throughExpected
      ? `${what} goes through ${how}${unread}`
      : `${what} goes through ${how}, not the expected relay ${expectRelay}${unread}`,
    evidence,
  };
}

/** Map references by file name (hash:/x and lmdb:/x are the files /x.db and /x.lmdb, built from /x). */
function relayMapReferences(settings: RoutingSettings): Map<string, string[]> {
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

export type RelayMapFileState = 'absent' | 'empty' | 'present' | 'not a regular file';

/** The state of a relay map file from stat's %F ("regular file", "regular empty file", ...). */
export function relayMapFileState(fileType: string): RelayMapFileState {
  if (fileType === 'regular empty file') return 'empty';
  if (fileType === 'regular file') return 'present';
  return 'not a regular file';
}

export interface RelayMapFile {
  path: string;
  state: RelayMapFileState;
  referencedBy: string[];
}

export interface RelayMapsEvidence {
  configured: boolean;
  files: RelayMapFile[];
  referenced: string[];
  notInEffect: string[];
}

/**
 * A relay map file that exists and has entries, while neither sender_dependent_relayhost_maps nor
 * transport_maps refers to it (by its own name or the source name of a .db/.lmdb/.cdb): its routes are
 * not in effect.
 */
export function relayMapsOutcome(
  settings: RoutingSettings,
  files: readonly { path: string; state: RelayMapFileState }[],
): StepOutcome<RelayMapsEvidence> {
  const refs = relayMapReferences(settings);
  const withRefs: RelayMapFile[] = files.map((f) => ({
    ...f,
    referencedBy: refs.get(f.path) ?? refs.get(f.path.replace(/\.(db|lmdb|cdb)$/, '')) ?? [],
  }));
  const notInEffect = withRefs
    .filter((f) => f.state === 'present' && f.referencedBy.length === 0)
    .map((f) => f.path);
  const evidence: RelayMapsEvidence = {
    configured: true,
    files: withRefs,
    referenced: [...refs.keys()],
    notInEffect,
  };
  if (notInEffect.length > 0) {
    return {
      ok: false,
      summary: `relay map present but not in effect: ${notInEffect.join(', ')} exists, but neither sender_dependent_relayhost_maps ("${settings.sender_dependent_relayhost_maps}") nor transport_maps ("${settings.transport_maps}") references it, so Postfix ignores its routes`,
      evidence,
    };
  }
  return {
    ok: true,
    summary: withRefs
      .map((f) =>
        f.referencedBy.length ? `${f.path} in effect (${f.referencedBy.join(', ')})` : `${f.path} ${f.state}`,
      )
      .join('; '),
    evidence,
  };
}

export interface RelayCredentialsEvidence {
  saslAuthEnable: string;
  senderDependent: string;
  maps: string[];
  lookups: Lookup[];
  foundKey?: string;
}

/**
 * smtp_sasl_password_maps keys for a next hop, in Postfix's order: the sender and its @domain (only with
 * smtp_sender_dependent_authentication=yes), the next hop as written, then its host.
 */
export function saslPasswordKeys(settings: RoutingSettings, sender: string, nexthop: string): string[] {
  const parsed = parseNexthop(nexthop);
  return [
    ...(settings.smtp_sender_dependent_authentication === 'yes' ? senderRelayKeys(sender) : []),
    nexthop,
    ...(parsed ? [parsed.host] : []),
  ].filter((k, i, all) => all.indexOf(k) === i);
}

/**
 * Postfix has a SASL login for the next hop: smtp_sasl_auth_enable=yes and smtp_sasl_password_maps has
 * an entry under one of saslPasswordKeys. Only found / not found is kept.
 */
export async function checkRelayCredentials(
  settings: RoutingSettings,
  sender: string,
  nexthop: string,
  lookup: PostmapLookup,
): Promise<StepOutcome<RelayCredentialsEvidence>> {
  const maps = parseMapList(settings.smtp_sasl_password_maps);
  const evidence: RelayCredentialsEvidence = {
    saslAuthEnable: settings.smtp_sasl_auth_enable,
    senderDependent: settings.smtp_sender_dependent_authentication,
    maps: maps.map((m) => m.text),
    lookups: [],
  };
  if (settings.smtp_sasl_auth_enable !== 'yes') {
    return {
      ok: false,
      summary: `smtp_sasl_auth_enable = ${settings.smtp_sasl_auth_enable}: Postfix does not log in to ${nexthop}`,
      evidence,
    };
  }
  if (maps.length === 0) {
    return {
      ok: false,
      summary: `smtp_sasl_password_maps is empty: no credentials for ${nexthop}`,
      evidence,
    };
  }
  const keys = saslPasswordKeys(settings, sender, nexthop);
  const { lookups, hit } = await searchMaps(maps, keys, lookup, true);
  evidence.lookups = lookups;
  if (hit) {
    evidence.foundKey = hit.key;
    return {
      ok: true,
      summary: `SASL credentials for ${nexthop} found under ${hit.key} in ${hit.map}`,
      evidence,
    };
  }
  const errors = lookups.filter((l) => l.status === 'error').map((l) => l.detail ?? l.map);
  return {
    ok: false,
    summary: `no SASL credentials for ${nexthop} in ${evidence.maps.join(', ')} (looked up ${keys.join(', ')})${
      errors.length ? `; ${errors.join('; ')}` : ''
    }`,
    evidence,
  };
}
