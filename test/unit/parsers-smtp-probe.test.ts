/** posttls-finger output, captured in the lab (healthy relay, closed port, hung relay). */
import { describe, expect, it } from 'vitest';
import { mailServerCommands } from '../../src/commands/index.js';
import { parseSmtpProbe } from '../../src/parsers/index.js';
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

  it('refuses option-like or bracketed hosts', () => {
    expect(() => mailServerCommands.smtpProbe('-oX', 25)).toThrow(/not a host name/);
    expect(() => mailServerCommands.smtpProbe('a]:1 [b', 25)).toThrow(/not a host name/);
    expect(() => mailServerCommands.smtpProbe('relay', 0)).toThrow(/relay port/);
  });
});
