/**
 * The open-relay audit and relay routing check: their parsers and validators, against output captured
 * from the lab mail server (test/fixtures/README.md), and the relay probe against a loopback fake server
 * that replays the captured session.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeSmtpServer } from '../helpers/fake-smtp.js';
import { CommandInputError, dmsCommands, postfixHostCommands } from '../../src/commands/index.js';
import { probeRelay, RelayProbeError } from '../../src/mail/relay-probe.js';
import {
  addressDomain,
  auditRelayRestrictions,
  auditSubmission,
  blocksUnauthRelay,
  classifyNetwork,
  findService,
  parseMapList,
  parseMapRef,
  parseNetworkList,
  parseNexthop,
  parsePostconfMaster,
  parsePostconfValues,
  parsePostmapQuery,
  parseSmtpReplies,
  parseStat,
  parseTransport,
  parseV6,
  publicSmtpdServices,
  relayAnswer,
  requiresSasl,
  submissionServices,
  takeSmtpReply,
  checkSaslCredentials,
  withSaslPassword,
  ParseError,
  ROUTING_PARAMETERS,
} from '../../src/parsers/index.js';
import { fixtureHeader, readFixture } from '../fixtures/read-fixture.js';

const AUDIT_PARAMS = [
  'mynetworks',
  'smtpd_relay_restrictions',
  'smtpd_recipient_restrictions',
  'smtpd_client_restrictions',
  'smtpd_sasl_auth_enable',
];

const LAB_FIXTURES = [
  'postconf-h-open-relay.txt',
  'postconf-h-open-relay-wide.txt',
  'postconf-M-submission.txt',
  'postconf-h-relay-routing.txt',
  'postconf-h-relay-routing-unset.txt',
  'postmap-q-found.txt',
  'postmap-q-not-found.txt',
  'postmap-q-missing-map.txt',
  'stat-relayhost-map.txt',
  'smtp-relay-denied.txt',
];

describe('lab fixtures', () => {
  it('say where they come from', () => {
    for (const f of LAB_FIXTURES) {
      const header = fixtureHeader(f).join('\n');
      expect(header, f).toMatch(/captured from the lab mail server/);
      expect(header, f).toMatch(/postfix 3\.\d+/);
    }
  });
});

describe('mynetworks (CIDR lists)', () => {
  it('the healthy lab trusts loopback only', () => {
    const values = parsePostconfValues(readFixture('postconf-h-open-relay.txt'), AUDIT_PARAMS);
    const entries = parseNetworkList(values.mynetworks ?? '');
    expect(entries).toEqual([
      { text: '127.0.0.0/8', family: 4, prefix: 8, trust: 'loopback', flagged: false, reason: 'loopback' },
    ]);
  });

  it('flags the open-relay fault: a whole private /12 (PERMIT_DOCKER=network)', () => {
    const values = parsePostconfValues(readFixture('postconf-h-open-relay-wide.txt'), AUDIT_PARAMS);
    const entries = parseNetworkList(values.mynetworks ?? '');
    expect(entries.map((e) => [e.text, e.trust, e.flagged])).toEqual([
      ['127.0.0.0/8', 'loopback', false],
      ['172.16.0.0/12', 'private-wide', true],
    ]);
    expect(entries[1]?.reason).toMatch(/whole private range \(\/12, wider than \/24\)/);
  });

  it.each([
    ['10.0.0.0/8', 'private-wide', true],
    ['192.168.0.0/16', 'private-wide', true],
    ['172.18.0.0/16', 'private-wide', true],
    ['192.168.1.0/24', 'private-narrow', false],
    ['10.1.2.0/28', 'private-narrow', false],
    ['172.18.0.5', 'host', false],
    ['172.18.0.5/32', 'host', false],
    ['203.0.113.7', 'host', false],
    ['203.0.113.0/24', 'public-range', true],
    ['0.0.0.0/0', 'public-range', true],
    ['172.0.0.0/8', 'public-range', true],
    ['127.0.0.1/32', 'loopback', false],
    ['[::1]/128', 'loopback', false],
    ['[::ffff:127.0.0.0]/104', 'loopback', false],
    ['[::ffff:10.0.0.0]/104', 'private-wide', true],
    ['[fd00:1:2:3::]/64', 'private-narrow', false],
    ['[fd00::]/8', 'private-wide', true],
    ['[2001:db8::]/32', 'public-range', true],
    ['[::]/0', 'public-range', true],
    ['[2001:db8::1]', 'host', false],
    ['!10.0.0.0/8', 'negated', false],
    ['cidr:/etc/postfix/network_table', 'unverifiable', true],
    ['hash:/etc/postfix/network_table', 'unverifiable', true],
    ['/etc/postfix/mynetworks', 'unverifiable', true],
    ['$mynetworks_extra', 'unverifiable', true],
    ['300.1.2.3/8', 'unverifiable', true],
    ['10.0.0.0/33', 'unverifiable', true],
    ['mail.example.org', 'unverifiable', true],
  ])('%s is %s (flagged: %s)', (text, trust, flagged) => {
    const e = classifyNetwork(text);
    expect([e.trust, e.flagged]).toEqual([trust, flagged]);
  });

  it('masks host bits like Postfix (10.1.2.3/8 is 10.0.0.0/8) and splits on commas and spaces', () => {
    expect(classifyNetwork('10.1.2.3/8').trust).toBe('private-wide');
    expect(parseNetworkList('127.0.0.0/8, [::1]/128,192.168.5.0/24').map((e) => e.flagged)).toEqual([
      false,
      false,
      false,
    ]);
  });

  it('reads IPv6 forms, including an IPv4 tail', () => {
    expect(parseV6('::1')).toBe(1n);
    expect(parseV6('::ffff:127.0.0.1')).toBe(0xffff7f000001n);
    expect(parseV6('1::')).toBe(1n << 112n);
    expect(parseV6('1:2:3:4:5:6:7:8:9')).toBeUndefined();
    expect(parseV6('1::2::3')).toBeUndefined();
  });
});

describe('relay restrictions and submission', () => {
  const master = parsePostconfMaster(readFixture('postconf-M-submission.txt'));
  const main = parsePostconfValues(readFixture('postconf-h-open-relay.txt'), AUDIT_PARAMS);

  it('the lab refuses unauthenticated relaying in main.cf', () => {
    expect(auditRelayRestrictions(master, main)).toEqual([
      {
        where: 'main.cf',
        relayRestrictions: 'permit_mynetworks permit_sasl_authenticated defer_unauth_destination',
        recipientRestrictions:
          'permit_sasl_authenticated, permit_mynetworks, reject_unauth_destination, reject_unauth_pipelining',
        blocksUnauthRelay: true,
      },
    ]);
  });

  it('a list without reject_unauth_destination, or with a bare permit before it, does not block', () => {
    expect(
      blocksUnauthRelay(['permit_mynetworks', 'permit_sasl_authenticated', 'defer_unauth_destination']),
    ).toBe(true);
    expect(blocksUnauthRelay(['permit_mynetworks', 'reject'])).toBe(true);
    expect(blocksUnauthRelay(['permit_mynetworks', 'permit_sasl_authenticated'])).toBe(false);
    expect(blocksUnauthRelay(['permit', 'reject_unauth_destination'])).toBe(false);
    expect(blocksUnauthRelay([])).toBe(false);
    const open = auditRelayRestrictions(master, {
      ...main,
      smtpd_relay_restrictions: 'permit_mynetworks permit_sasl_authenticated',
      smtpd_recipient_restrictions: 'permit_sasl_authenticated, permit_mynetworks, permit',
    });
    expect(open[0]?.blocksUnauthRelay).toBe(false);
  });

  it('audits an smtp service override too, and ignores the loopback re-injection smtpd', () => {
    const services = parsePostconfMaster(
      [
        'smtp inet n - n - - smtpd -o smtpd_relay_restrictions=permit_mynetworks,permit',
        '127.0.0.1:10025 inet n - n - - smtpd -o smtpd_relay_restrictions=permit_mynetworks,reject',
      ].join('\n'),
    );
    expect(publicSmtpdServices(services).map((s) => s.name)).toEqual(['smtp']);
    const audits = auditRelayRestrictions(services, {
      smtpd_relay_restrictions: 'permit_mynetworks defer_unauth_destination',
      smtpd_recipient_restrictions: '',
    });
    expect(audits.map((a) => [a.where, a.blocksUnauthRelay])).toEqual([
      ['main.cf', true],
      ['master.cf smtp/inet', false],
    ]);
  });

  it('finds submission (587) and submissions (465) in the lab master.cf, both requiring AUTH', () => {
    const subs = submissionServices(master);
    expect(subs.map((s) => s.name)).toEqual(['submission', 'submissions']);
    const audits = subs.map((s) => auditSubmission(s, main));
    expect(audits.map((a) => [a.service, a.port, a.saslAuthEnable, a.problems])).toEqual([
      ['submission', 587, 'yes', []],
      ['submissions', 465, 'yes', []],
    ]);
  });

  it('flags a submission service without AUTH or without a SASL-only restriction', () => {
    const submission = findService(master, 'submission', 'inet');
    if (!submission) throw new Error('no submission in the fixture');
    const noAuth = {
      ...submission,
      overrides: { ...submission.overrides, smtpd_sasl_auth_enable: 'no' },
    };
    expect(auditSubmission(noAuth, main).problems[0]).toMatch(/smtpd_sasl_auth_enable=no/);
    const open = {
      ...submission,
      overrides: {
        ...submission.overrides,
        smtpd_client_restrictions: 'permit_mynetworks',
        smtpd_relay_restrictions: 'permit_sasl_authenticated,permit',
      },
    };
    expect(auditSubmission(open, main).problems[0]).toMatch(/unauthenticated clients may send/);
    // A $reference is followed into main.cf.
    const viaRef = {
      ...submission,
      overrides: { smtpd_sasl_auth_enable: 'yes', smtpd_client_restrictions: '$mua_client_restrictions' },
    };
    expect(
      auditSubmission(viaRef, { ...main, mua_client_restrictions: 'permit_sasl_authenticated, reject' })
        .problems,
    ).toEqual([]);
    expect(requiresSasl(['permit_mynetworks', 'permit_sasl_authenticated', 'reject'])).toBe(true);
    expect(requiresSasl(['permit_sasl_authenticated'])).toBe(false);
  });

  it('counts 0.0.0.0:587 and smtps as submission ports', () => {
    const services = parsePostconfMaster(
      ['0.0.0.0:587 inet n - n - - smtpd', 'smtps inet n - n - - smtpd', 'smtp inet n - n - - smtpd'].join(
        '\n',
      ),
    );
    expect(submissionServices(services).map((s) => s.name)).toEqual(['0.0.0.0:587', 'smtps']);
  });
});

describe('relay routing: maps, postmap -q, next hops', () => {
  it('reads the lab routing parameters, healthy and with the relay map unreferenced', () => {
    const ok = parsePostconfValues(readFixture('postconf-h-relay-routing.txt'), ROUTING_PARAMETERS);
    expect(ok).toMatchObject({
      relayhost: '',
      sender_dependent_relayhost_maps: 'texthash:/etc/postfix/relayhost_map',
      transport_maps: '',
      smtp_sasl_password_maps: 'texthash:/etc/postfix/sasl_passwd',
      smtp_sasl_auth_enable: 'yes',
      smtp_sender_dependent_authentication: 'yes',
    });
    expect(parseMapList(ok.sender_dependent_relayhost_maps ?? '')).toEqual([
      {
        text: 'texthash:/etc/postfix/relayhost_map',
        type: 'texthash',
        name: '/etc/postfix/relayhost_map',
        queryable: true,
      },
    ]);
    const unset = parsePostconfValues(readFixture('postconf-h-relay-routing-unset.txt'), ROUTING_PARAMETERS);
    expect(unset.sender_dependent_relayhost_maps).toBe('');
    expect(parseMapList(unset.sender_dependent_relayhost_maps ?? '')).toEqual([]);
  });

  it('marks maps the catalogue will not query', () => {
    expect(parseMapRef('proxy:hash:/etc/postfix/x')?.queryable).toBe(false);
    expect(parseMapRef('mysql:/etc/postfix/mysql-relay.cf')?.queryable).toBe(false);
    expect(parseMapRef('hash:/etc/postfix/transport')?.queryable).toBe(true);
    expect(parseMapRef('[relay]:25')).toBeUndefined();
  });

  it('reads postmap -q: found, not found, unreadable map', () => {
    expect(
      parsePostmapQuery({ exitCode: 0, stdout: readFixture('postmap-q-found.txt'), stderr: '' }),
    ).toEqual({
      status: 'found',
      value: '[relay.lab.test]:2526',
    });
    expect(
      parsePostmapQuery({ exitCode: 1, stdout: readFixture('postmap-q-not-found.txt'), stderr: '' }),
    ).toEqual({
      status: 'not-found',
    });
    expect(
      parsePostmapQuery({ exitCode: 1, stdout: '', stderr: readFixture('postmap-q-missing-map.txt') }),
    ).toEqual({
      status: 'error',
      message: 'postmap: fatal: open database /etc/postfix/nonexistent_map: No such file or directory',
    });
    expect(
      parsePostmapQuery({
        exitCode: 1,
        stdout: '',
        stderr:
          'postmap: warning: regexp map /etc/postfix/x, line 1: no closing regexp delimiter "@": skipping this rule\n',
      }),
    ).toEqual({ status: 'not-found' });
  });

  it('reads next hops and transport entries', () => {
    expect(parseNexthop('[relay.lab.test]:2526')).toEqual({
      text: '[relay.lab.test]:2526',
      host: 'relay.lab.test',
      port: 2526,
      bracketed: true,
    });
    expect(parseNexthop('relay.example.org')).toEqual({
      text: 'relay.example.org',
      host: 'relay.example.org',
      bracketed: false,
    });
    expect(parseNexthop('[ipv6:2001:db8::1]:587')?.host).toBe('2001:db8::1');
    expect(parseNexthop('relay:99999')).toBeUndefined();
    expect(parseNexthop('two words')).toBeUndefined();
    expect(parseTransport('smtp:[relay.lab.test]:2526')).toEqual({
      transport: 'smtp',
      nexthop: '[relay.lab.test]:2526',
    });
    expect(parseTransport('discard:')).toEqual({ transport: 'discard', nexthop: '' });
    expect(addressDomain('Canary@Lab.Test')).toBe('lab.test');
  });

  it('reads the stat of the relay map', () => {
    expect(parseStat(readFixture('stat-relayhost-map.txt')).fileType).toBe('regular file');
  });
});

describe('catalogue: postmapQuery and fileStat', () => {
  it('builds postmap -q as argv', () => {
    const c = dmsCommands.postmapQuery('@lab.test', 'texthash:/etc/postfix/relayhost_map');
    expect(c.argv).toEqual(['postmap', '-q', '@lab.test', 'texthash:/etc/postfix/relayhost_map']);
    expect(c.stateChanging).toBe(false);
    expect(c.okExitCodes).toEqual([0, 1]);
    for (const key of [
      'canary@lab.test',
      'lab.test',
      '[relay.lab.test]:2526',
      '[2001:db8::1]',
      'relay.lab.test:25',
    ]) {
      expect(postfixHostCommands.postmapQuery(key, 'hash:/etc/postfix/sasl_passwd').argv[2]).toBe(key);
    }
  });

  it.each([
    ['-q', 'hash:/etc/postfix/x'],
    ['a b', 'hash:/etc/postfix/x'],
    ['@lab.test;rm', 'hash:/etc/postfix/x'],
    ['', 'hash:/etc/postfix/x'],
    ['@lab.test', 'proxy:hash:/etc/postfix/x'],
    ['@lab.test', 'mysql:/etc/postfix/relay.cf'],
    ['@lab.test', 'hash:etc/postfix/x'],
    ['@lab.test', 'hash:/etc/postfix/../shadow'],
    ['@lab.test', 'hash:/etc/postfix/x y'],
    ['@lab.test', '/etc/postfix/x'],
  ])('refuses key %j / map %j', (key, map) => {
    expect(() => dmsCommands.postmapQuery(key, map)).toThrow(CommandInputError);
  });

  it('stats a relay map file, naming the field in errors', () => {
    expect(dmsCommands.fileStat('/etc/postfix/relayhost_map', 'relayMapFiles').argv).toEqual([
      'stat',
      '-c',
      '%a %u %g %U %G %F',
      '--',
      '/etc/postfix/relayhost_map',
    ]);
    expect(() => dmsCommands.fileStat('relayhost_map', 'relayMapFiles')).toThrow(/^relayMapFiles:/);
  });
});

describe('SMTP replies and the relay probe', () => {
  it('reads the captured session: multi-line EHLO, enhanced codes, relay denied', () => {
    const replies = parseSmtpReplies(readFixture('smtp-relay-denied.txt'));
    expect(replies.map((r) => r.code)).toEqual([220, 250, 250, 454, 250, 221]);
    expect(replies[1]?.text).toMatch(/^mail\.lab\.test PIPELINING .* CHUNKING$/);
    const rcpt = replies[3];
    expect(rcpt).toEqual({
      code: 454,
      enhanced: '4.7.1',
      text: '<canary@dest.test>: Relay access denied',
      lines: ['4.7.1 <canary@dest.test>: Relay access denied'],
    });
    if (rcpt) expect(relayAnswer(rcpt)).toBe('relay-denied');
  });

  it('tells relayed from denied from refused otherwise', () => {
    expect(relayAnswer({ code: 250, enhanced: '2.1.5', text: 'Ok', lines: [] })).toBe('relayed');
    expect(relayAnswer({ code: 554, enhanced: '5.7.1', text: '<x@y>: Relay access denied', lines: [] })).toBe(
      'relay-denied',
    );
    expect(relayAnswer({ code: 450, enhanced: '4.2.0', text: 'Greylisted', lines: [] })).toBe(
      'refused-otherwise',
    );
  });

  it('waits for a whole reply and refuses garbage', () => {
    expect(takeSmtpReply('250-a\r\n250-b\r\n')).toBeUndefined();
    expect(takeSmtpReply('250-a\r\n250 b\r\nrest')).toEqual({
      reply: { code: 250, text: 'a b', lines: ['a', 'b'] },
      rest: 'rest',
    });
    expect(() => takeSmtpReply('HTTP/1.1 400 Bad Request\r\n')).toThrow(ParseError);
    expect(() => takeSmtpReply('250-a\r\n550 b\r\n')).toThrow(/reply code changed/);
  });

  describe('probeRelay against a loopback fake server', () => {
    let server: Server | undefined;
    afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

    async function fake(rcptReply: string, greeting = '220 fake ESMTP'): Promise<number> {
      const fakeServer = await fakeSmtpServer(greeting, (line, socket) => {
        if (line.startsWith('EHLO')) socket.write('250-fake\r\n250 PIPELINING\r\n');
        else if (line.startsWith('MAIL')) socket.write('250 2.1.0 Ok\r\n');
        else if (line.startsWith('RCPT')) socket.write(`${rcptReply}\r\n`);
        else if (line === 'RSET') socket.write('250 2.0.0 Ok\r\n');
        else if (line === 'QUIT') socket.end('221 2.0.0 Bye\r\n');
        else if (line === 'DATA') throw new Error('the probe must never send DATA');
      });
      server = fakeServer.server;
      return fakeServer.port;
    }

    it('reports an open relay (250 to RCPT) and never sends DATA', async () => {
      const port = await fake('250 2.1.5 Ok');
      const r = await probeRelay({ host: '127.0.0.1', port, from: 'a@outside.test', to: 'b@outside.test' });
      expect(r.rcpt && relayAnswer(r.rcpt)).toBe('relayed');
      expect(r.transcript).toContain('> EHLO [127.0.0.1]');
      expect(r.transcript).toContain('> RCPT TO:<b@outside.test>');
      expect(r.transcript.some((l) => l.includes('DATA'))).toBe(false);
    });

    it('reports relay denied', async () => {
      const port = await fake('554 5.7.1 <b@outside.test>: Relay access denied');
      const r = await probeRelay({ host: '127.0.0.1', port, from: 'a@outside.test', to: 'b@outside.test' });
      expect(r.rcpt && relayAnswer(r.rcpt)).toBe('relay-denied');
    });

    it('stops at a greeting that is not 220', async () => {
      const port = await fake('250 Ok', '554 5.7.1 go away');
      const r = await probeRelay({ host: '127.0.0.1', port, from: 'a@outside.test', to: 'b@outside.test' });
      expect(r.greeting?.code).toBe(554);
      expect(r.rcpt).toBeUndefined();
    });

    it('fails with RelayProbeError on a closed port and on a silent server, within its deadline', async () => {
      const port = await fake('250 Ok');
      await new Promise<void>((resolve) => server?.close(() => resolve()));
      server = undefined;
      await expect(
        probeRelay({
          host: '127.0.0.1',
          port,
          from: 'a@outside.test',
          to: 'b@outside.test',
          timeoutMs: 2_000,
        }),
      ).rejects.toThrow(RelayProbeError);
      server = createServer(() => undefined);
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      const silent = (server.address() as AddressInfo).port;
      const started = Date.now();
      await expect(
        probeRelay({ host: '127.0.0.1', port: silent, from: 'a@x.test', to: 'b@x.test', timeoutMs: 500 }),
      ).rejects.toThrow(/no answer within 500 ms/);
      expect(Date.now() - started).toBeLessThan(3_000);
    });
  });
});

describe('SASL password tables', () => {
  // Shaped like the lab's /etc/postfix/sasl_passwd (DMS: postfix-sasl-password.cf); made-up passwords.
  const table = [
    '# relay credentials',
    '[relay.lab.test]:2526 lab-mailserver:old-password',
    '@lab.test lab-mailserver:old-password',
    '@other.test someone-else:other-password',
    '',
  ].join('\n');

  it('finds the entries for a user and those with another password than the stored one', () => {
    expect(checkSaslCredentials(table, 'lab-mailserver', 'new-password')).toEqual({
      keys: ['[relay.lab.test]:2526', '@lab.test'],
      differing: ['[relay.lab.test]:2526', '@lab.test'],
    });
    expect(checkSaslCredentials(table, 'lab-mailserver', 'old-password').differing).toEqual([]);
    expect(checkSaslCredentials(table, 'nobody', 'x').keys).toEqual([]);
  });

  it('rewrites only that user, keeping comments, other users and colons in passwords', () => {
    const out = withSaslPassword(table, 'lab-mailserver', 'new:pass word');
    expect(out.split('\n')).toEqual([
      '# relay credentials',
      '[relay.lab.test]:2526 lab-mailserver:new:pass word',
      '@lab.test lab-mailserver:new:pass word',
      '@other.test someone-else:other-password',
      '',
    ]);
    expect(checkSaslCredentials(out, 'lab-mailserver', 'new:pass word').differing).toEqual([]);
    expect(() => withSaslPassword(table, 'lab-mailserver', 'a\nb')).toThrow(/line break/);
  });
});
