/**
 * Relay routing check, read only: for the canary's sender and recipient, which relay will Postfix use, is
 * a relay map file present but referenced by nothing (so its routes are silently ignored), and does
 * Postfix have SASL credentials for that relay. The decisions are in src/parsers/relay-route.ts; this
 * module only runs `postconf -h` and `postmap -q KEY type:/path` (as Postfix would look it up) and `stat`.
 */
import {
  checkRelayCredentials,
  parsePostmapQuery,
  parseRoutingSettings,
  parseStat,
  relayMapFileState,
  relayMapsOutcome,
  relayRouteOutcome,
  resolveRelayRoute,
  ROUTING_PARAMETERS,
  type PostmapLookup,
  type RelayCredentialsEvidence,
  type RelayMapFileState,
  type RelayMapsEvidence,
  type RelayRouteEvidence,
  type RoutingSettings,
} from '../parsers/index.js';
import type { MailServerCommands } from '../commands/index.js';
import type { StepOutcome } from '../shared/types.js';
import { onMailServer, targetConfig, type OnHost } from './context.js';
import { outcome } from './outcome.js';
import { run, runOk, tail } from './run.js';

export type {
  Lookup,
  RelayCredentialsEvidence,
  RelayMapFile,
  RelayMapsEvidence,
  RelayRouteEvidence,
} from '../parsers/index.js';

type OnMailServer = OnHost<MailServerCommands>;

async function routingSettings({ host, commands }: OnMailServer): Promise<RoutingSettings> {
  const r = await runOk(host, () => commands.postconfValues(ROUTING_PARAMETERS));
  return parseRoutingSettings(r.stdout);
}

/** `postmap -q` on the mail server; an exit code outside the catalogue's 0/1 is an unreadable map. */
function postmapOn({ host, commands }: OnMailServer): PostmapLookup {
  return async (key, map) => {
    const r = await run(host, () => commands.postmapQuery(key, map.text));
    return r.ok ? parsePostmapQuery(r) : { status: 'error', message: `postmap exited ${String(r.exitCode)}` };
  };
}

/** Which relay will mail from canary.from to canary.to take? ok when it is canary.expectRelay. */
export async function relayRoute(targetName: string): Promise<StepOutcome<RelayRouteEvidence>> {
  const server = await onMailServer(targetName);
  const { target } = server;
  const settings = await routingSettings(server);
  const sender = target.canary.from;
  const recipient = target.canary.to;
  const resolved = await resolveRelayRoute(settings, { sender, recipient }, postmapOn(server));
  return relayRouteOutcome({
    sender,
    recipient,
    settings,
    lookups: resolved.lookups,
    route: resolved.route,
    expectRelay: target.canary.expectRelay,
    unreadableMaps: resolved.unreadableMaps,
  });
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
  const server = await onMailServer(target);
  const { host, commands } = server;
  const settings = await routingSettings(server);
  const files: { path: string; state: RelayMapFileState }[] = [];
  for (const path of candidates) {
    const r = await run(host, () => commands.fileStat(path, 'relayMapFiles'));
    if (!r.ok) {
      if (/no such file/i.test(r.stderr)) {
        files.push({ path, state: 'absent' });
        continue;
      }
      throw new Error(`stat ${path} on ${host.description} failed: ${tail(r.stderr, 300)}`);
    }
    files.push({ path, state: relayMapFileState(parseStat(r.stdout).fileType) });
  }
  return relayMapsOutcome(settings, files);
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
  const server = await onMailServer(targetName);
  const settings = await routingSettings(server);
  return checkRelayCredentials(settings, server.target.canary.from, nexthop, postmapOn(server));
}
