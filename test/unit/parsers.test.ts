/** Parsers against outputs captured from the real tools (test/fixtures/capture/capture.ts). */
import { describe, expect, it } from 'vitest';
import { fixtureHeader, readFixture } from '../fixtures/read-fixture.js';
import {
  findService,
  isListeningOn,
  parseGetProcess,
  parseNetstatListening,
  parsePostconf,
  parsePostconfMaster,
  parsePostconfValues,
  parsePostqueueJson,
  parsePostqueueJsonLine,
  parseSs,
  parseStat,
  parseSupervisorStatus,
  ParseError,
  postconfList,
  privateKeyProblems,
} from '../../src/parsers/index.js';

describe('fixtures', () => {
  it('come from the real tools, with their provenance in the header', () => {
    for (const f of ['postqueue-j.txt', 'supervisorctl-status.txt', 'ss-tlnp.txt', 'mail-log.txt']) {
      const header = fixtureHeader(f).join('\n');
      expect(header, f).toMatch(/captured by test\/fixtures\/capture\/capture\.ts/);
      expect(header, f).toMatch(/postfix 3\.\d+/);
    }
  });
});

describe('postqueue -j', () => {
  it('parses the captured queue', () => {
    const messages = parsePostqueueJson(readFixture('postqueue-j.txt'));
    expect(messages).toHaveLength(8);
    expect(messages.filter((m) => m.queueName === 'deferred')).toHaveLength(7);
    const held = messages.find((m) => m.queueName === 'hold');
    expect(held?.recipients[0]?.address).toBe('held@example.net');
    const amavisDown = messages.find((m) => m.recipients.some((r) => r.address === 'grace@remote.test'));
    expect(amavisDown?.recipients[0]?.delayReason).toBe(
      'connect to 127.0.0.1[127.0.0.1]:10024: Connection refused',
    );
    // Bounces carry the null sender, which postqueue shows as MAILER-DAEMON.
    expect(messages.filter((m) => m.sender === 'MAILER-DAEMON')).toHaveLength(3);
    for (const m of messages) {
      expect(m.queueId).toMatch(/^[0-9A-F]{6,}$/);
      expect(m.arrivalTime).toBeGreaterThan(1.6e9);
      expect(m.forcedExpire).toBe(false);
    }
  });

  it('ignores unknown fields and keeps Postfix 3.11 recipient fields', () => {
    const m = parsePostqueueJsonLine(
      '{"queue_name":"deferred","queue_id":"4cJ0Vh5Vw5z1N","arrival_time":1,"message_size":2,"forced_expire":true,' +
        '"sender":"","future_field":{"x":1},"recipients":[{"address":"b@x","orig_address":"c@x","bounce_reason":"r","new":1}]}',
    );
    expect(m).toEqual({
      queueName: 'deferred',
      queueId: '4cJ0Vh5Vw5z1N',
      arrivalTime: 1,
      messageSize: 2,
      forcedExpire: true,
      sender: '',
      recipients: [{ address: 'b@x', origAddress: 'c@x', bounceReason: 'r' }],
    });
    // Absent fields are absent, not undefined (toEqual would not tell): a recipient is only what was sent.
    expect(Object.keys(m.recipients[0] ?? {})).toEqual(['address', 'origAddress', 'bounceReason']);
  });

  it('rejects garbage with the line number', () => {
    expect(() => parsePostqueueJson('{"queue_name":"x"}\n')).toThrow(
      /field "queue_id" must be a string.*line 1/,
    );
    expect(() => parsePostqueueJson('\npostqueue: fatal: Queue report unavailable')).toThrow(
      /not JSON.*line 2/,
    );
    expect(() => parsePostqueueJsonLine('[1,2]')).toThrow(ParseError);
  });
});

describe('supervisorctl status', () => {
  it('parses running, stopped, never started and fatal programs', () => {
    const programs = parseSupervisorStatus(readFixture('supervisorctl-status.txt'));
    expect(programs.map((p) => [p.name, p.state])).toEqual([
      ['amavis', 'STOPPED'],
      ['clamav', 'FATAL'],
      ['fetchmail', 'STOPPED'],
      ['postfix', 'RUNNING'],
      ['rsyslog', 'RUNNING'],
    ]);
    const postfix = programs.find((p) => p.name === 'postfix');
    expect(postfix?.pid).toBeGreaterThan(0);
    expect(postfix?.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(programs.find((p) => p.name === 'fetchmail')?.description).toBe('Not started');
    expect(programs.find((p) => p.name === 'clamav')?.pid).toBeUndefined();
  });

  it('reads day-long uptimes and group names', () => {
    const [p] = parseSupervisorStatus('relays:relay2526   RUNNING   pid 7, uptime 3 days, 4:05:06\n');
    expect(p).toMatchObject({
      name: 'relays:relay2526',
      pid: 7,
      uptimeSeconds: 3 * 86400 + 4 * 3600 + 5 * 60 + 6,
    });
  });

  it('rejects an unreachable supervisord', () => {
    expect(() => parseSupervisorStatus('unix:///dev/shm/supervisor.sock no such file\n')).toThrow(
      /not a program status line/,
    );
  });
});

describe('ss', () => {
  it('parses -tlnp with processes', () => {
    const sockets = parseSs(readFixture('ss-tlnp.txt'));
    const reinjection = sockets.find((s) => s.port === 10025);
    expect(reinjection).toMatchObject({ state: 'LISTEN', address: '127.0.0.1' });
    expect(reinjection?.processes.map((p) => p.name)).toContain('master');
    expect(isListeningOn(sockets, 25)).toBe(true);
    expect(isListeningOn(sockets, 10025, 'localhost')).toBe(true);
    // amavis was stopped by the capture scenario: nothing on 10024.
    expect(isListeningOn(sockets, 10024)).toBe(false);
  });

  it('parses -tln without a process column', () => {
    const sockets = parseSs(readFixture('ss-tln.txt'));
    expect(sockets.length).toBeGreaterThan(3);
    expect(sockets.every((s) => s.processes.length === 0)).toBe(true);
  });

  it('handles IPv6, wildcards and interface suffixes', () => {
    const sockets = parseSs(
      'State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n' +
        'LISTEN 0      4096   [::]:22            [::]:*\n' +
        'LISTEN 0      128    *:2526             *:*\n' +
        'LISTEN 0      4096   127.0.0.53%lo:53   0.0.0.0:*\n',
    );
    expect(sockets.map((s) => [s.address, s.port])).toEqual([
      ['::', 22],
      ['*', 2526],
      ['127.0.0.53', 53],
    ]);
    expect(sockets[2]?.iface).toBe('lo');
    expect(isListeningOn(sockets, 2526, '10.0.0.1')).toBe(true);
  });

  it('rejects garbage', () => {
    expect(() => parseSs('bash: ss: command not found')).toThrow(/header/);
    expect(() => parseSs('State Recv-Q Send-Q Local Address:Port\nLISTEN x y z\n')).toThrow(
      /not a socket row/,
    );
  });
});

describe('postconf', () => {
  it('parses -n into a map', () => {
    const conf = parsePostconf(readFixture('postconf-n.txt'));
    expect(conf.relayhost).toBe('[127.0.0.1]:2526');
    expect(conf.content_filter).toBe('smtp-amavis:[127.0.0.1]:10024');
    expect(postconfList(conf.mynetworks)).toEqual(['127.0.0.0/8', '[::ffff:127.0.0.0]/104', '[::1]/128']);
    expect(postconfList(conf.smtpd_relay_restrictions)).toContain('defer_unauth_destination');
  });

  it('parses -h values in the order asked', () => {
    const v = parsePostconfValues(readFixture('postconf-h.txt'), [
      'relayhost',
      'content_filter',
      'mynetworks',
    ]);
    expect(v.content_filter).toBe('smtp-amavis:[127.0.0.1]:10024');
    expect(() => parsePostconfValues('a\n', ['x', 'y'])).toThrow(/expected 2/);
  });

  it('joins continuation lines and keeps "__proto__" as data', () => {
    const conf = parsePostconf('mynetworks = 127.0.0.0/8\n    10.0.0.0/8\n__proto__ = x\nempty =\n');
    expect(conf.mynetworks).toBe('127.0.0.0/8 10.0.0.0/8');
    expect(Object.getPrototypeOf(conf)).toBeNull();
    expect(conf.empty).toBe('');
    expect(() => parsePostconf('postconf: fatal: open /etc/postfix/main.cf: No such file')).toThrow(
      /name = value/,
    );
  });
});

describe('postconf -M', () => {
  it('parses services, -o overrides and braced values', () => {
    const services = parsePostconfMaster(readFixture('postconf-M.txt'));
    const reinject = findService(services, '127.0.0.1:10025', 'inet');
    expect(reinject).toMatchObject({ type: 'inet', private: 'n', chroot: 'n', command: 'smtpd' });
    expect(reinject?.overrides.content_filter).toBe('');
    expect(reinject?.overrides.mynetworks).toBe('127.0.0.0/8');
    expect(findService(services, 'smtp-amavis')?.maxproc).toBe('2');
    expect(findService(services, 'submission')?.overrides.smtpd_client_restrictions).toBe(
      'permit_mynetworks, reject',
    );
    expect(findService(services, 'tlsmgr')?.wakeup).toBe('1000?');
    expect(findService(services, 'maildrop')?.args).toEqual([
      'flags=DRXhu',
      'user=vmail',
      'argv=/usr/bin/maildrop',
      '-d',
      '${recipient}',
    ]);
  });

  it('reads the folded form (-Mf, continuation lines) the same way', () => {
    expect(parsePostconfMaster(readFixture('postconf-Mf.txt'))).toEqual(
      parsePostconfMaster(readFixture('postconf-M.txt')),
    );
  });

  it('reads master.cf syntax with spaces inside braces and comments', () => {
    const [s] = parsePostconfMaster(
      '# comment\nsubmission inet n - y - - smtpd\n  -o { smtpd_client_restrictions = permit_sasl_authenticated, reject }\n',
    );
    expect(s?.overrides.smtpd_client_restrictions).toBe('permit_sasl_authenticated, reject');
    expect(() => parsePostconfMaster('smtp inet n - y\n')).toThrow(/8\+ fields/);
    expect(() => parsePostconfMaster('  -o x=y\n')).toThrow(/continuation/);
    expect(() => parsePostconfMaster('a inet n - y - - smtpd -o {x=y\n')).toThrow(/unclosed/);
  });
});

describe('stat (key permissions)', () => {
  it('accepts a 0600 key and flags a 0644 one', () => {
    const ok = parseStat(readFixture('stat-key-ok.txt'));
    expect(ok).toMatchObject({ mode: 0o600, user: 'root', uid: 0, fileType: 'regular empty file' });
    expect(privateKeyProblems(ok, 'root')).toEqual([]);
    const loose = parseStat(readFixture('stat-key-loose.txt'));
    expect(privateKeyProblems(loose, 'root')).toEqual([
      'mode 0644 lets group or others access it (want 0600 or 0400)',
    ]);
    expect(privateKeyProblems(ok, 'cloudrelay')).toEqual(['is owned by root, not cloudrelay']);
  });

  it('rejects garbage', () => {
    expect(() => parseStat("stat: cannot statx '/x': No such file or directory")).toThrow(ParseError);
    expect(privateKeyProblems(parseStat('777 0 0 root root symbolic link'))).toHaveLength(2);
  });
});

describe('Windows samples (hand-written, marked as not captured)', () => {
  it('marks every Windows fixture as not captured', () => {
    for (const f of [
      'windows-netstat-ano.txt',
      'windows-netstat-ano-de.txt',
      'windows-get-process-ps51.txt',
      'windows-get-process-ps7.txt',
    ]) {
      expect(fixtureHeader(f)[0], f).toMatch(/NOT CAPTURED/);
    }
  });

  it('keeps the LISTENING rows of netstat -ano', () => {
    const rows = parseNetstatListening(readFixture('windows-netstat-ano.txt'));
    expect(rows.find((r) => r.port === 2526)).toEqual({ address: '0.0.0.0', port: 2526, pid: 4242 });
    expect(rows.some((r) => r.pid === 0)).toBe(false); // TIME_WAIT and ESTABLISHED rows dropped
    expect(rows.filter((r) => r.address === '::')).toHaveLength(3);
    expect(isListeningOn(rows, 2526)).toBe(true);
    expect(isListeningOn(rows, 2525)).toBe(false);
  });

  it('finds listeners in localised output by their 0 foreign port', () => {
    const rows = parseNetstatListening(readFixture('windows-netstat-ano-de.txt'));
    expect(rows.map((r) => r.port)).toEqual([135, 2526, 2526]);
  });

  it('parses Get-Process tables of PowerShell 5.1 and 7', () => {
    const ps51 = parseGetProcess(readFixture('windows-get-process-ps51.txt'));
    expect(ps51.map((p) => [p.id, p.processName, p.cpuSeconds])).toEqual([
      [4242, 'python', 1.45],
      [5120, 'python', undefined],
    ]);
    const ps7 = parseGetProcess(readFixture('windows-get-process-ps7.txt'));
    expect(ps7[0]).toMatchObject({ id: 4242, processName: 'python', cpuSeconds: 1.45 });
    expect(ps7[0]?.columns['WS(M)']).toBe('22.30');
    expect(parseGetProcess('\r\n')).toEqual([]);
  });

  it('rejects garbage', () => {
    expect(() =>
      parseNetstatListening("'netstat' is not recognized as an internal or external command"),
    ).toThrow(/Proto/);
    expect(() => parseGetProcess('Get-Process : Cannot find a process with the name "python".')).toThrow(
      /header/,
    );
  });
});
