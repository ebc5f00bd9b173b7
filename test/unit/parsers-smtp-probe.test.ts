/** posttls-finger output, captured in the lab (healthy relay, closed port, hung relay). */
import { describe, expect, it } from 'vitest';
import { mailServerCommands } from '../../src/commands/index.js';
import { parseSmtpProbe, parseSmtpTlsProbe } from '../../src/parsers/index.js';
import { readFixture } from '../fixtures/read-fixture.js';

describe('parseSmtpProbe', () => {
  it('a relay that greets and answers EHLO', () => {
    const p = parseSmtpProbe(readFixture('posttls-finger-ok.txt'));
    expect(p).toMatchObject({
      connected: true,
      ehloOk: true,
      greeting: '220 relay.lab.test ESMTP lab relay',
    });
    expect(p.problem).toBeUndefined();
  });

  it('a closed port: no connection, the refusal is the problem', () => {
    const p = parseSmtpProbe(readFixture('posttls-finger-refused.txt'));
    expect(p.connected).toBe(false);
    expect(p.problem).toMatch(/Connection refused/);
  });

  it('a hung relay: connected, but the greeting never came', () => {
    const p = parseSmtpProbe(readFixture('posttls-finger-hung.txt'));
    expect(p.connected).toBe(true);
    expect(p.greeting).toBeUndefined();
    expect(p.problem).toBe('timeout while reading server greeting');
  });

  it('a 421 greeting is not an answer', () => {
    const p = parseSmtpProbe('posttls-finger: Connected to x[192.0.2.1]:25\nposttls-finger: < 421 busy\n');
    expect(p.problem).toMatch(/421/);
  });
});

describe('parseSmtpTlsProbe (a provider relay: posttls-finger -l may)', () => {
  it('STARTTLS offered and up; AUTH as offered after TLS (not before)', () => {
    const p = parseSmtpTlsProbe(readFixture('posttls-finger-starttls.txt'));
    expect(p).toMatchObject({
      connected: true,
      ehloOk: true,
      greeting: '220 relay.lab.test ESMTP lab relay',
      starttlsOffered: true,
      authMechanisms: ['PLAIN', 'LOGIN'],
    });
    expect(p.tls).toMatch(/^Untrusted TLSv1\.3 with cipher TLS_AES_256_GCM_SHA384/);
    expect(p.problem).toBeUndefined();
    expect(p.tlsProblem).toBeUndefined();
  });

  it('a closed port: the plain verdict, no STARTTLS, no AUTH', () => {
    const p = parseSmtpTlsProbe(readFixture('posttls-finger-refused.txt'));
    expect(p).toMatchObject({ connected: false, starttlsOffered: false, authMechanisms: [] });
    expect(p.problem).toMatch(/Connection refused/);
  });

  it('STARTTLS offered but the handshake fails: the line that says why', () => {
    const text = readFixture('posttls-finger-starttls.txt')
      .split('\n')
      .filter((l) => !/TLS connection established|< 250-AUTH/.test(l))
      .map((l) =>
        l.includes('subject_CN=')
          ? 'posttls-finger: SSL_connect error to relay.lab.test[192.0.2.3]:2526: -1'
          : l,
      )
      .join('\n');
    const p = parseSmtpTlsProbe(text);
    expect(p.starttlsOffered).toBe(true);
    expect(p.tls).toBeUndefined();
    expect(p.tlsProblem).toBe('SSL_connect error to relay.lab.test[192.0.2.3]:2526: -1');
  });

  it('implicit TLS (SMTPS, posttls-finger -w): the handshake before the greeting, then AUTH', () => {
    const p = parseSmtpTlsProbe(readFixture('posttls-finger-implicit.txt'), 'implicit');
    expect(p).toMatchObject({
      connected: true,
      ehloOk: true,
      greeting: '220 mail.lab.test ESMTP',
      starttlsOffered: false,
      authMechanisms: ['PLAIN', 'LOGIN'],
    });
    expect(p.tls).toMatch(/^Untrusted TLSv1\.3 with cipher/);
    expect(p.problem).toBeUndefined();
    expect(p.tlsProblem).toBeUndefined();
  });

  it('implicit TLS to a plain-text port: the handshake fails with OpenSSL reason, and no greeting', () => {
    const text = readFixture('posttls-finger-implicit-plaintext.txt');
    const p = parseSmtpTlsProbe(text, 'implicit');
    expect(p).toMatchObject({ connected: true, ehloOk: false, authMechanisms: [] });
    expect(p.tlsProblem).toBe('wrong version number');
    expect(p.problem).toBe('SSL_connect error to relay.lab.test[192.0.2.3]:2526: -1');
    // Read as STARTTLS, the same output has no TLS problem of its own: the mode decides.
    expect(parseSmtpTlsProbe(text).tlsProblem).toBeUndefined();
  });

  it('the old AUTH= form and no STARTTLS at all', () => {
    const p = parseSmtpTlsProbe(
      [
        'posttls-finger: Connected to smarthost.example.net[192.0.2.1]:25',
        'posttls-finger: < 220 smarthost.example.net ESMTP',
        'posttls-finger: > EHLO mail.example.org',
        'posttls-finger: < 250-smarthost.example.net',
        'posttls-finger: < 250-AUTH=LOGIN CRAM-MD5',
        'posttls-finger: < 250 8BITMIME',
      ].join('\n'),
    );
    expect(p).toMatchObject({ starttlsOffered: false, authMechanisms: ['LOGIN', 'CRAM-MD5'] });
    expect(p.tlsProblem).toBeUndefined();
  });
});

describe('smtpProbe command', () => {
  it('is an argv with the host bracketed (no MX lookup) and no DNSSEC probe', () => {
    expect(mailServerCommands.smtpProbe('relay.lab.test', 2526, 10).argv).toEqual([
      'posttls-finger',
      '-l',
      'none',
      '-o',
      'dnssec_probe=',
      '-t',
      '10',
      '-T',
      '10',
      '[relay.lab.test]:2526',
    ]);
  });

  it('smtpTlsProbe is the same probe with -l may (STARTTLS when offered), read-only', () => {
    const probe = mailServerCommands.smtpTlsProbe('email-smtp.eu-west-1.amazonaws.com', 587, 10);
    expect(probe.argv).toEqual([
      'posttls-finger',
      '-l',
      'may',
      '-o',
      'dnssec_probe=',
      '-t',
      '10',
      '-T',
      '10',
      '[email-smtp.eu-west-1.amazonaws.com]:587',
    ]);
    expect(probe.stateChanging).toBe(false);
    expect(() => mailServerCommands.smtpTlsProbe('-oX', 587)).toThrow(/not a host name/);
  });

  it('smtpTlsProbe with implicit TLS: wrapper mode (-w) at level encrypt, read-only', () => {
    const probe = mailServerCommands.smtpTlsProbe('smtp.mailgun.org', 465, 10, 'implicit');
    expect(probe.argv).toEqual([
      'posttls-finger',
      '-w',
      '-l',
      'encrypt',
      '-o',
      'dnssec_probe=',
      '-t',
      '10',
      '-T',
      '10',
      '[smtp.mailgun.org]:465',
    ]);
    expect(probe.description).toBe(
      'Talk SMTP to [smtp.mailgun.org]:465 like Postfix would (posttls-finger, implicit TLS)',
    );
    expect(probe.stateChanging).toBe(false);
  });

  it('refuses option-like or bracketed hosts', () => {
    expect(() => mailServerCommands.smtpProbe('-oX', 25)).toThrow(/not a host name/);
    expect(() => mailServerCommands.smtpProbe('a]:1 [b', 25)).toThrow(/not a host name/);
    expect(() => mailServerCommands.smtpProbe('relay', 0)).toThrow(/relay port/);
  });
});
