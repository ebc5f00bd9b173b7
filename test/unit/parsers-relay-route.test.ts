/**
 * Postfix's relay-route precedence and the SASL credentials lookup (src/parsers/relay-route.ts), driven by
 * `postconf -h` and `postmap -q` output captured from the lab mail server (test/fixtures/README.md) and by
 * pre-fetched lookup tables for the precedence cases.
 */
import { describe, expect, it } from 'vitest';
import {
  checkRelayCredentials,
  chooseRelayRoute,
  parsePostmapQuery,
  parseRoutingSettings,
  relayMapFileState,
  relayMapsOutcome,
  relayRouteOutcome,
  resolveRelayRoute,
  saslPasswordKeys,
  tableLookup,
  type LookupTable,
  type PostmapLookup,
  type PostmapResult,
  type RelayRouteEvidence,
  type RoutingSettings,
} from '../../src/parsers/index.js';
import { readFixture } from '../fixtures/read-fixture.js';

const RELAY_MAP = 'texthash:/etc/postfix/relayhost_map';
const TRANSPORT = 'hash:/etc/postfix/transport';
const SASL = 'texthash:/etc/postfix/sasl_passwd';
const message = { sender: 'canary@lab.test', recipient: 'canary@sink.test' };

const healthy = parseRoutingSettings(readFixture('postconf-h-relay-routing.txt'));
const unset = parseRoutingSettings(readFixture('postconf-h-relay-routing-unset.txt'));

/** The lab's relay map as postmap answered it (captured): @lab.test found, canary@lab.test not. */
const labRelayMap: LookupTable = {
  [RELAY_MAP]: {
    '@lab.test': parsePostmapQuery({ exitCode: 0, stdout: readFixture('postmap-q-found.txt'), stderr: '' }),
    'canary@lab.test': parsePostmapQuery({
      exitCode: 1,
      stdout: readFixture('postmap-q-not-found.txt'),
      stderr: '',
    }),
  },
};
const missingMap = parsePostmapQuery({
  exitCode: 1,
  stdout: '',
  stderr: readFixture('postmap-q-missing-map.txt'),
});

function settings(overrides: Partial<RoutingSettings>): RoutingSettings {
  return {
    relayhost: '',
    sender_dependent_relayhost_maps: '',
    transport_maps: '',
    smtp_sasl_password_maps: SASL,
    smtp_sasl_auth_enable: 'yes',
    smtp_sender_dependent_authentication: 'yes',
    ...overrides,
  };
}

const found = (value: string): PostmapResult => ({ status: 'found', value });

async function outcomeFor(s: RoutingSettings, table: LookupTable, expectRelay = 'relay.lab.test') {
  const resolved = await resolveRelayRoute(s, message, tableLookup(table));
  const evidence: RelayRouteEvidence = { ...message, settings: s, expectRelay, ...resolved };
  return relayRouteOutcome(evidence);
}

describe('relay route on the lab (captured postconf and postmap output)', () => {
  it('healthy lab: the sender-dependent map routes @lab.test to [relay.lab.test]:2526', async () => {
    const result = await outcomeFor(healthy, labRelayMap);
    expect(result.ok).toBe(true);
    expect(result.evidence.route).toEqual({
      source: 'sender_dependent_relayhost_maps',
      nexthop: '[relay.lab.test]:2526',
      host: 'relay.lab.test',
      via: `${RELAY_MAP} @lab.test`,
    });
    // The full address is tried first, then @domain.
    expect(result.evidence.lookups).toEqual([
      { map: RELAY_MAP, key: 'canary@lab.test', status: 'not-found' },
      { map: RELAY_MAP, key: '@lab.test', status: 'found', detail: '[relay.lab.test]:2526' },
    ]);
    expect(result.summary).toBe(
      `mail from lab.test to sink.test goes through [relay.lab.test]:2526 (from ${RELAY_MAP} @lab.test)`,
    );
    expect((await outcomeFor(healthy, labRelayMap, 'Relay.Lab.Test')).ok).toBe(true);
  });

  it('relay map unreferenced (relaymap-ineffective): mail goes directly to the MX', async () => {
    const result = await outcomeFor(unset, labRelayMap);
    expect(result.ok).toBe(false);
    expect(result.evidence.route).toEqual({ source: 'direct' });
    expect(result.evidence.lookups).toEqual([]);
    expect(result.summary).toMatch(
      /^mail from lab\.test to sink\.test goes directly to the MX of sink\.test, not through relay\.lab\.test: relayhost is empty/,
    );
  });

  it('an unreadable map fails the check and is named', async () => {
    const broken = settings({ sender_dependent_relayhost_maps: 'texthash:/etc/postfix/nonexistent_map' });
    const lookup: PostmapLookup = () => missingMap;
    const resolved = await resolveRelayRoute(broken, message, lookup);
    expect(resolved.route).toEqual({ source: 'direct' });
    // One entry per key looked up (the address, then @domain).
    const unreadable =
      'texthash:/etc/postfix/nonexistent_map: postmap: fatal: open database /etc/postfix/nonexistent_map: No such file or directory';
    expect(resolved.unreadableMaps).toEqual([unreadable, unreadable]);
    const withRelayhost = settings({ ...broken, relayhost: '[relay.lab.test]:2526' });
    const result = await outcomeFor(withRelayhost, {
      'texthash:/etc/postfix/nonexistent_map': { 'canary@lab.test': missingMap, '@lab.test': missingMap },
    });
    expect(result.evidence.route.source).toBe('relayhost');
    expect(result.ok).toBe(false);
    expect(result.summary).toMatch(
      /goes through \[relay\.lab\.test\]:2526 \(from relayhost\); unreadable map/,
    );
  });
});

describe('relay route precedence', () => {
  const everything = settings({
    relayhost: '[fallback.example]:25',
    sender_dependent_relayhost_maps: RELAY_MAP,
    transport_maps: TRANSPORT,
  });

  it('transport_maps with a next hop wins over the sender-dependent map and relayhost', async () => {
    const result = await outcomeFor(everything, {
      [TRANSPORT]: { 'sink.test': found('smtp:[other.example]:587') },
      [RELAY_MAP]: { '@lab.test': found('[relay.lab.test]:2526') },
    });
    expect(result.evidence.route).toEqual({
      source: 'transport_maps',
      nexthop: '[other.example]:587',
      transport: 'smtp',
      host: 'other.example',
      via: `${TRANSPORT} sink.test`,
    });
    expect(result.ok).toBe(false);
    expect(result.summary).toBe(
      `mail from lab.test to sink.test goes through [other.example]:587 (from ${TRANSPORT} sink.test), not the expected relay relay.lab.test`,
    );
  });

  it('transport_maps: the recipient address before its domain', async () => {
    const { route } = await resolveRelayRoute(
      everything,
      message,
      tableLookup({
        [TRANSPORT]: {
          'canary@sink.test': found('relay:[relay.lab.test]:2526'),
          'sink.test': found('smtp:[other.example]'),
        },
      }),
    );
    expect(route).toMatchObject({ source: 'transport_maps', host: 'relay.lab.test', transport: 'relay' });
  });

  it('a transport entry without a next hop names only the transport: the sender-dependent map decides', async () => {
    const { route } = await resolveRelayRoute(
      everything,
      message,
      tableLookup({
        [TRANSPORT]: { 'sink.test': found('smtp:') },
        [RELAY_MAP]: { '@lab.test': found('[relay.lab.test]:2526') },
      }),
    );
    expect(route).toEqual({
      source: 'sender_dependent_relayhost_maps',
      nexthop: '[relay.lab.test]:2526',
      host: 'relay.lab.test',
      transport: 'smtp',
      via: `${RELAY_MAP} @lab.test`,
    });
  });

  it('the sender-dependent map wins over relayhost; DUNNO falls through to relayhost', async () => {
    const sdrm = await resolveRelayRoute(
      everything,
      message,
      tableLookup({ [RELAY_MAP]: { 'canary@lab.test': found('relay.lab.test:2526') } }),
    );
    expect(sdrm.route).toMatchObject({
      source: 'sender_dependent_relayhost_maps',
      nexthop: 'relay.lab.test:2526',
      host: 'relay.lab.test',
      via: `${RELAY_MAP} canary@lab.test`,
    });
    const dunno = await resolveRelayRoute(
      everything,
      message,
      tableLookup({ [RELAY_MAP]: { '@lab.test': found('DUNNO') } }),
    );
    expect(dunno.route).toEqual({
      source: 'relayhost',
      nexthop: '[fallback.example]:25',
      host: 'fallback.example',
      via: 'relayhost',
    });
  });

  it('relayhost forms: [host]:port, [host], host, IPv6', () => {
    expect(chooseRelayRoute(' [relay.lab.test]:2526 ', undefined, undefined)).toEqual({
      source: 'relayhost',
      nexthop: '[relay.lab.test]:2526',
      host: 'relay.lab.test',
      via: 'relayhost',
    });
    expect(chooseRelayRoute('[relay.lab.test]', undefined, undefined).host).toBe('relay.lab.test');
    expect(chooseRelayRoute('relay.lab.test', undefined, undefined).host).toBe('relay.lab.test');
    expect(chooseRelayRoute('[ipv6:2001:db8::1]:587', undefined, undefined).host).toBe('2001:db8::1');
    // A next hop the parser cannot read keeps its text but has no host: it cannot match the expected relay.
    expect(chooseRelayRoute('two words', undefined, undefined)).toEqual({
      source: 'relayhost',
      nexthop: 'two words',
      via: 'relayhost',
    });
  });

  it('no route at all: direct to the MX', () => {
    expect(chooseRelayRoute('', undefined, undefined)).toEqual({ source: 'direct' });
    expect(chooseRelayRoute('  ', undefined, { map: RELAY_MAP, key: '@lab.test', value: 'dunno' })).toEqual({
      source: 'direct',
    });
  });

  it("looks up in Postfix's order: each key in every map, first hit stops the search", async () => {
    const asked: string[] = [];
    const second = 'texthash:/etc/postfix/relayhost_map2';
    const lookup: PostmapLookup = async (key, map) => {
      asked.push(`${map.text} ${key}`);
      return map.text === second && key === '@lab.test'
        ? found('[relay.lab.test]:2526')
        : { status: 'not-found' };
    };
    const s = settings({
      sender_dependent_relayhost_maps: `${RELAY_MAP}, proxy:mysql:/etc/postfix/m.cf ${second}`,
    });
    const { lookups, route } = await resolveRelayRoute(s, message, lookup);
    expect(asked).toEqual([
      `${RELAY_MAP} canary@lab.test`,
      `${second} canary@lab.test`,
      `${RELAY_MAP} @lab.test`,
      `${second} @lab.test`,
    ]);
    expect(lookups[0]).toEqual({
      map: 'proxy:mysql:/etc/postfix/m.cf',
      key: '*',
      status: 'skipped',
      detail: 'map type proxy is not queried',
    });
    expect(route.via).toBe(`${second} @lab.test`);
  });

  it('keys postmap would refuse are not looked up', async () => {
    const asked: string[] = [];
    const lookup: PostmapLookup = (key) => {
      asked.push(key);
      return { status: 'not-found' };
    };
    await resolveRelayRoute(
      settings({ transport_maps: TRANSPORT }),
      { sender: 'canary@lab.test', recipient: 'bad key@sink.test' },
      lookup,
    );
    expect(asked).toEqual(['sink.test']);
  });
});

describe('relay map files in effect', () => {
  it('a present map that nothing references is not in effect', () => {
    const result = relayMapsOutcome(unset, [{ path: '/etc/postfix/relayhost_map', state: 'present' }]);
    expect(result.ok).toBe(false);
    expect(result.evidence.notInEffect).toEqual(['/etc/postfix/relayhost_map']);
    expect(result.summary).toMatch(
      /^relay map present but not in effect: \/etc\/postfix\/relayhost_map exists/,
    );
  });

  it('a referenced map (also as the .db built from it) is in effect; absent and empty maps are reported', () => {
    const s = settings({ sender_dependent_relayhost_maps: RELAY_MAP, transport_maps: TRANSPORT });
    const result = relayMapsOutcome(s, [
      { path: '/etc/postfix/relayhost_map', state: 'present' },
      { path: '/etc/postfix/transport.db', state: 'present' },
      { path: '/etc/postfix/other_map', state: 'absent' },
      { path: '/etc/postfix/empty_map', state: 'empty' },
    ]);
    expect(result.ok).toBe(true);
    expect(result.evidence.referenced).toEqual(['/etc/postfix/relayhost_map', '/etc/postfix/transport']);
    expect(result.summary).toBe(
      [
        `/etc/postfix/relayhost_map in effect (sender_dependent_relayhost_maps = ${RELAY_MAP})`,
        `/etc/postfix/transport.db in effect (transport_maps = ${TRANSPORT})`,
        '/etc/postfix/other_map absent',
        '/etc/postfix/empty_map empty',
      ].join('; '),
    );
  });

  it('reads the file state from stat %F', () => {
    expect(relayMapFileState('regular file')).toBe('present');
    expect(relayMapFileState('regular empty file')).toBe('empty');
    expect(relayMapFileState('directory')).toBe('not a regular file');
  });
});

describe('relay SASL credentials', () => {
  const secretTable: LookupTable = { [SASL]: { '@lab.test': found('canary@lab.test:s3cret-password') } };

  it('keys: sender and @domain (sender-dependent), the next hop as written, its host', () => {
    expect(saslPasswordKeys(healthy, 'canary@lab.test', '[relay.lab.test]:2526')).toEqual([
      'canary@lab.test',
      '@lab.test',
      '[relay.lab.test]:2526',
      'relay.lab.test',
    ]);
    const plain = settings({ smtp_sender_dependent_authentication: 'no' });
    expect(saslPasswordKeys(plain, 'canary@lab.test', 'relay.lab.test')).toEqual(['relay.lab.test']);
  });

  it('finds the login without keeping the password', async () => {
    const result = await checkRelayCredentials(
      healthy,
      'canary@lab.test',
      '[relay.lab.test]:2526',
      tableLookup(secretTable),
    );
    expect(result.ok).toBe(true);
    expect(result.evidence.foundKey).toBe('@lab.test');
    expect(result.summary).toBe(
      `SASL credentials for [relay.lab.test]:2526 found under @lab.test in ${SASL}`,
    );
    expect(JSON.stringify(result)).not.toContain('s3cret');
  });

  it('hides a password written into main.cf (static: and inline: password tables) before it reaches evidence', async () => {
    const planted = 'Pl4nted-Secret';
    for (const maps of [
      `static:relayuser:${planted}`,
      `static:{relayuser:${planted}}`,
      `inline:{ [relay.lab.test]:2526=relayuser:${planted} }, texthash:/etc/postfix/sasl_passwd`,
    ]) {
      const postconf = ['[relay.lab.test]:2526', '', '', maps, 'yes', 'no'].join('\n');
      const s = parseRoutingSettings(postconf);
      expect(s.smtp_sasl_password_maps).not.toContain(planted);
      const route = await outcomeFor(s, {});
      const creds = await checkRelayCredentials(
        s,
        'canary@lab.test',
        '[relay.lab.test]:2526',
        tableLookup({}),
      );
      for (const text of [JSON.stringify(s), JSON.stringify(route), JSON.stringify(creds)])
        expect(text).not.toContain(planted);
    }
    expect(
      parseRoutingSettings(['', '', '', 'texthash:/etc/postfix/sasl_passwd', 'yes', 'no'].join('\n')),
    ).toMatchObject({
      smtp_sasl_password_maps: 'texthash:/etc/postfix/sasl_passwd',
    });
  });

  it('reports no login, SASL disabled, no password maps, and hides postmap errors of password maps', async () => {
    const none = await checkRelayCredentials(
      healthy,
      'canary@other.test',
      'relay.lab.test',
      tableLookup(secretTable),
    );
    expect(none.ok).toBe(false);
    expect(none.summary).toBe(
      `no SASL credentials for relay.lab.test in ${SASL} (looked up canary@other.test, @other.test, relay.lab.test)`,
    );
    const off = await checkRelayCredentials(
      settings({ smtp_sasl_auth_enable: 'no' }),
      'canary@lab.test',
      'relay.lab.test',
      tableLookup(secretTable),
    );
    expect(off.summary).toBe('smtp_sasl_auth_enable = no: Postfix does not log in to relay.lab.test');
    const empty = await checkRelayCredentials(
      settings({ smtp_sasl_password_maps: '' }),
      'canary@lab.test',
      'relay.lab.test',
      tableLookup(secretTable),
    );
    expect(empty.summary).toBe('smtp_sasl_password_maps is empty: no credentials for relay.lab.test');
    const leaky: PostmapLookup = () => ({ status: 'error', message: 'postmap: fatal: bad line user:s3cret' });
    const unreadable = await checkRelayCredentials(healthy, 'canary@lab.test', 'relay.lab.test', leaky);
    expect(unreadable.ok).toBe(false);
    expect(unreadable.summary).toMatch(/; postmap could not read texthash:\/etc\/postfix\/sasl_passwd$/);
    expect(JSON.stringify(unreadable)).not.toContain('s3cret');
  });
});

/**
 * docker-mailserver's other ways to set up relaying, captured from throwaway DMS 15.1.0 containers (see
 * test/integration/dms-relay-setups.test.ts, which runs the activities against them):
 * DEFAULT_RELAY_HOST sets `relayhost` and leaves relayhost_map empty; with neither it nor RELAY_HOST (before
 * `setup relay add-domain`) nothing relays and SASL is off. After `setup relay add-domain` + `add-auth`,
 * DMS's settings are those of postconf-h-relay-routing.txt (RELAY_HOST's), read above.
 */
describe('docker-mailserver relay set-ups (captured)', () => {
  const dmsDefaultRelayHost = parseRoutingSettings(
    readFixture('postconf-h-relay-routing-dms-default-relay-host.txt'),
  );
  const dmsNoRelay = parseRoutingSettings(readFixture('postconf-h-relay-routing-dms-no-relay.txt'));
  const nexthop = '[relay.lab.test]:2526';

  it('DEFAULT_RELAY_HOST: the route comes from relayhost, past an empty relayhost_map', async () => {
    expect(dmsDefaultRelayHost).toMatchObject({
      relayhost: nexthop,
      sender_dependent_relayhost_maps: RELAY_MAP,
      smtp_sender_dependent_authentication: 'no',
    });
    // relayhost_map is empty: postmap finds nothing in it.
    const resolved = await resolveRelayRoute(dmsDefaultRelayHost, message, tableLookup({}));
    expect(resolved.route).toEqual({
      source: 'relayhost',
      nexthop,
      via: 'relayhost',
      host: 'relay.lab.test',
    });
    expect(resolved.lookups.map((l) => `${l.key}:${l.status}`)).toEqual([
      'canary@lab.test:not-found',
      '@lab.test:not-found',
    ]);
    const outcome = relayRouteOutcome({
      ...message,
      settings: dmsDefaultRelayHost,
      ...resolved,
      expectRelay: 'relay.lab.test',
    });
    expect(outcome.ok).toBe(true);
    expect(outcome.summary).toBe(`mail from lab.test to sink.test goes through ${nexthop} (from relayhost)`);
    expect(
      relayMapsOutcome(dmsDefaultRelayHost, [{ path: '/etc/postfix/relayhost_map', state: 'empty' }]).ok,
    ).toBe(true);
  });

  it('DEFAULT_RELAY_HOST with RELAY_USER/RELAY_PASSWORD: the credentials are found under the relay host, not the sender', async () => {
    // DMS writes the ENV credentials as `<DEFAULT_RELAY_HOST> user:password`; sender keys are not asked for.
    expect(saslPasswordKeys(dmsDefaultRelayHost, message.sender, nexthop)).toEqual([
      nexthop,
      'relay.lab.test',
    ]);
    const secretTable: LookupTable = { [SASL]: { [nexthop]: found('lab-mailserver:Secr3t-Env-Pw') } };
    const credentials = await checkRelayCredentials(
      dmsDefaultRelayHost,
      message.sender,
      nexthop,
      tableLookup(secretTable),
    );
    expect(credentials.ok).toBe(true);
    expect(credentials.evidence.foundKey).toBe(nexthop);
    expect(JSON.stringify(credentials)).not.toContain('Secr3t-Env-Pw');
  });

  it('neither RELAY_HOST nor DEFAULT_RELAY_HOST: mail goes to the MX, and the summary says why', async () => {
    const resolved = await resolveRelayRoute(dmsNoRelay, message, tableLookup({}));
    expect(resolved.route).toEqual({ source: 'direct' });
    expect(resolved.lookups).toEqual([]);
    const outcome = relayRouteOutcome({
      ...message,
      settings: dmsNoRelay,
      ...resolved,
      expectRelay: 'relay.lab.test',
    });
    expect(outcome.ok).toBe(false);
    expect(outcome.summary).toMatch(
      /goes directly to the MX of sink\.test, not through relay\.lab\.test: relayhost is empty/,
    );
    expect(dmsNoRelay.smtp_sasl_auth_enable).toBe('no');
  });
});
