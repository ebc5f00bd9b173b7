/**
 * Runbook 9, relay routing check (seed 003), read only: for the canary's sender domain, which relay will
 * Postfix use? relay route (transport_maps for the recipient, sender_dependent_relayhost_maps for the
 * sender, relayhost; each map looked up with postmap -q, as Postfix would) compared with
 * canary.expectRelay -> relay map files (mailServer.relayMapFiles) present but referenced by nothing
 * ("relay map present but not in effect") -> SASL credentials for that relay. Changes nothing.
 */
import { checks } from './engine/policies.js';
import { defineRunbook } from './engine/runbook.js';

export const relayRoutingCheck = defineRunbook('relayRoutingCheck', async (rb) => {
  const route = await rb.check('relay-route', () => checks.relayRoute(rb.target));
  const maps = await rb.check('relay-maps-in-effect', () => checks.relayMapsInEffect(rb.target));
  const nexthop = route.evidence.route.nexthop;
  const credentials =
    nexthop === undefined
      ? undefined
      : await rb.check('relay-credentials', () => checks.relayCredentials(rb.target, nexthop));

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
