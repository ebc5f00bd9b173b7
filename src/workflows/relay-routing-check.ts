/**
 * Relay routing check, read only: which relay will Postfix use for the canary's sender domain, and is every
 * relay map in effect?
 * 1. Relay route: transport_maps for the recipient, sender_dependent_relayhost_maps for the sender, then
 *    relayhost; each map looked up with `postmap -q`, as Postfix would. Compared with canary.expectRelay.
 * 2. Relay map files (mailServer.relayMapFiles) present but referenced by nothing: "relay map present but
 *    not in effect", as docker-mailserver v13 produced when RELAY_HOST was unset.
 * 3. SASL credentials for that relay.
 */
import { defineRunbook } from './engine/define.js';

export const relayRoutingCheck = defineRunbook('relayRoutingCheck', async (run) => {
  const route = await run.check('relay-route', (a) => a.relayRoute(run.target));
  const maps = await run.check('relay-maps-in-effect', (a) => a.relayMapsInEffect(run.target));
  const nexthop = route.evidence.route.nexthop;
  const credentials =
    nexthop === undefined
      ? undefined
      : await run.check('relay-credentials', (a) => a.relayCredentials(run.target, nexthop));

  const problems = [route, maps, credentials].flatMap((f) => (f && !f.ok ? [f.summary] : []));
  if (problems.length === 0) {
    return {
      verdict: 'healthy',
      cause: `${route.summary}, with SASL credentials (${credentials?.summary ?? 'none needed'})`,
    };
  }
  const unused = maps.evidence.notInEffect;
  const hint = unused.length
    ? `. To put ${unused.join(', ')} back in effect, reference it (sender_dependent_relayhost_maps = <type>:${unused[0]}, e.g. texthash:) and reload Postfix; on docker-mailserver v13 the relay map only takes effect with RELAY_HOST set`
    : '';
  return { verdict: 'needs-human', cause: `${problems.join('; ')}${hint}` };
});
