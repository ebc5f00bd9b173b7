import { describe, expect, it } from 'vitest';
import {
  CommandInputError,
  dmsCommands,
  MAX_IDS_PER_POSTSUPER,
  postfixHostCommands,
  QUEUE_COUNT_SCRIPT,
  QUEUE_JSON_SCRIPT,
  relayLinuxCommands,
  type CatalogueCommand,
} from '../../src/commands/index.js';
import {
  COMMAND_LIMIT_MS,
  QUEUE_LIST_BASE_MESSAGES,
  QUEUE_LIST_MAX_MS,
  queueListLimitMs,
} from '../../src/commands/limits.js';

const LONG_ID = '4cJ0Vh5Vw5z1N';

function expectShape(c: CatalogueCommand): void {
  expect(c.argv.length).toBeGreaterThan(0);
  expect(c.timeoutMs).toBeGreaterThan(0);
  expect(c.maxOutputBytes).toBeGreaterThan(0);
  expect(c.description).not.toBe('');
  expect(Object.isFrozen(c.argv)).toBe(true);
}

describe('DMS catalogue', () => {
  it('builds the read-only checks as plain argv', () => {
    const cases: [CatalogueCommand, string[]][] = [
      [dmsCommands.supervisorStatus(), ['supervisorctl', 'status']],
      [dmsCommands.supervisorStatus('amavis'), ['supervisorctl', 'status', 'amavis']],
      [dmsCommands.queueJson(), ['sh', '-c', QUEUE_JSON_SCRIPT, 'queue-json', 'postqueue', '-j']],
      [
        dmsCommands.queueFileCount(),
        [
          'sh',
          '-c',
          QUEUE_COUNT_SCRIPT,
          'queue-count',
          'find',
          'maildrop',
          'incoming',
          'active',
          'deferred',
          'hold',
          '-type',
          'f',
        ],
      ],
      [dmsCommands.tailMailLog(20), ['tail', '-n', '20', '--', '/var/log/mail/mail.log']],
      [dmsCommands.listeningSockets(), ['ss', '-tlnp']],
      [dmsCommands.postconfNonDefault(), ['postconf', '-n']],
      [dmsCommands.postconfMaster(), ['postconf', '-M']],
      [
        dmsCommands.postconfValues(['relayhost', 'content_filter']),
        ['postconf', '-h', 'relayhost', 'content_filter'],
      ],
      [
        dmsCommands.keyFileStat('/home/cloudrelay/.ssh/id_rsa'),
        ['stat', '-c', '%a %u %g %U %G %F', '--', '/home/cloudrelay/.ssh/id_rsa'],
      ],
    ];
    for (const [c, argv] of cases) {
      expect(c.argv).toEqual(argv);
      expect(c.stateChanging).toBe(false);
      expectShape(c);
    }
    // supervisorctl exits 3 when a program is not RUNNING: still a valid answer.
    expect(dmsCommands.supervisorStatus().okExitCodes).toEqual([0, 3]);
  });

  it('marks state-changing commands', () => {
    const cases: [CatalogueCommand, string[]][] = [
      [dmsCommands.supervisorRestart('amavis'), ['supervisorctl', 'restart', 'amavis']],
      [dmsCommands.flushQueue(), ['postqueue', '-f']],
      [
        dmsCommands.postsuper('hold', { ids: ['70DCF1825B5', LONG_ID] }),
        ['postsuper', '-h', '70DCF1825B5', '-h', LONG_ID],
      ],
      [dmsCommands.postsuper('release', { ids: ['70DCF1825B5'] }), ['postsuper', '-H', '70DCF1825B5']],
      [
        dmsCommands.postsuper('requeue', { all: true, queue: 'deferred' }),
        ['postsuper', '-r', 'ALL', 'deferred'],
      ],
      [dmsCommands.postsuper('hold', { all: true }), ['postsuper', '-h', 'ALL']],
      [dmsCommands.postsuper('delete', { ids: ['ABCDEF'] }), ['postsuper', '-d', 'ABCDEF']],
    ];
    for (const [c, argv] of cases) {
      expect(c.argv).toEqual(argv);
      expect(c.stateChanging).toBe(true);
      expectShape(c);
    }
  });

  it('validates program names against DMS programs', () => {
    expect(() => dmsCommands.supervisorRestart('amavisd')).toThrow(/not a docker-mailserver program/);
    expect(() => dmsCommands.supervisorRestart('mailserver')).toThrow(/start script/);
    expect(() => dmsCommands.supervisorStatus('amavis; reboot')).toThrow(CommandInputError);
  });

  it('validates queue ids and refuses ALL for delete', () => {
    for (const bad of ['', 'abcdef', '12345', 'ALL', '-d', '70DCF1825B5 ALL', '4cJ0Vh5Vw5z1A' /* vowel */]) {
      expect(() => dmsCommands.postsuper('hold', { ids: [bad] }), bad).toThrow(CommandInputError);
    }
    expect(() => dmsCommands.postsuper('hold', { ids: ['70DCF1825B5*'] })).toThrow(/status marker/);
    expect(() => dmsCommands.postsuper('delete', { all: true })).toThrow(/not allowed for delete/);
    expect(() => dmsCommands.postsuper('hold', { ids: [] })).toThrow(/at least one/);
    const many = Array.from({ length: MAX_IDS_PER_POSTSUPER + 1 }, (_, i) =>
      (0xa00000 + i).toString(16).toUpperCase(),
    );
    expect(() => dmsCommands.postsuper('hold', { ids: many })).toThrow(/at most/);
    // A bad id deep in a long list is still refused, naming its position.
    const withBad = [...many.slice(0, 100), 'ALL'];
    expect(() => dmsCommands.postsuper('delete', { ids: withBad })).toThrow(/queue ids\[100\]/);
  });

  it('passes long id lists on standard input ("-"), one validated id per line', () => {
    const ids = Array.from({ length: 11 }, (_, i) => (0xb00000 + i).toString(16).toUpperCase());
    const c = dmsCommands.postsuper('delete', { ids });
    expect(c.argv).toEqual(['postsuper', '-d', '-']);
    expect(c.stdin).toBe(`${ids.join('\n')}\n`);
    expect(c.description).toBe('Delete 11 messages (postsuper -d)');
    expect(dmsCommands.postsuper('hold', { ids: ids.slice(0, 10) }).stdin).toBeUndefined();
    // @ts-expect-error an unknown queue name is refused at run time too
    expect(() => dmsCommands.postsuper('requeue', { all: true, queue: 'deferred; rm' })).toThrow(
      /not one of/,
    );
  });

  it('bounds counts and parameter names', () => {
    expect(() => dmsCommands.tailMailLog(0)).toThrow(/1 to 5000/);
    expect(() => dmsCommands.tailMailLog(5001)).toThrow(/1 to 5000/);
    expect(() => dmsCommands.tailMailLog(1.5)).toThrow(CommandInputError);
    expect(() => dmsCommands.postconfValues(['relayhost; id'])).toThrow(/postconf parameter/);
    expect(() => dmsCommands.postconfValues([])).toThrow(/1 to 50/);
  });

  it('builds the relay SSH check without ever disabling host key checking', () => {
    const c = dmsCommands.sshToRelay({ configPath: '/home/cloudrelay/.ssh/config', alias: 'cloudrelay' });
    expect(c.argv).toEqual([
      'ssh',
      '-F',
      '/home/cloudrelay/.ssh/config',
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'ConnectTimeout=10',
      '--',
      'cloudrelay',
      'echo',
      'OK',
    ]);
    expect(c.argv.join(' ')).not.toMatch(/StrictHostKeyChecking=no/i);
    expect(() => dmsCommands.sshToRelay({ configPath: '/x/config', alias: '-oProxyCommand=id' })).toThrow(
      /alias/,
    );
    expect(() => dmsCommands.sshToRelay({ configPath: 'config', alias: 'relay' })).toThrow(/absolute path/);
  });

  it('validates paths', () => {
    for (const bad of [
      'relative/key',
      '/a/../etc/shadow',
      '/a b',
      "/a'b",
      '/a\nb',
      '/$(id)',
      `/${'a'.repeat(1100)}`,
    ]) {
      expect(() => dmsCommands.keyFileStat(bad), bad).toThrow(CommandInputError);
    }
  });
});

describe('queue listing limit', () => {
  const minutes = (ms: number): number => ms / 60_000;

  it('keeps the base limit for small queues and grows it with the queue file count', () => {
    expect(queueListLimitMs(0)).toBe(COMMAND_LIMIT_MS.queueList);
    expect(queueListLimitMs(QUEUE_LIST_BASE_MESSAGES / 2)).toBe(COMMAND_LIMIT_MS.queueList);
    // 100k messages: the base limit per 100k, half as much again for what arrives meanwhile.
    expect(minutes(queueListLimitMs(100_000))).toBe(3);
    expect(minutes(queueListLimitMs(1_000_000))).toBe(30);
    for (let n = 0; n < 3_000_000; n += 50_000)
      expect(queueListLimitMs(n + 50_000)).toBeGreaterThanOrEqual(queueListLimitMs(n));
  });

  it('never goes past its ceiling, whatever the count', () => {
    expect(queueListLimitMs(10_000_000)).toBe(QUEUE_LIST_MAX_MS);
    expect(queueListLimitMs(Number.MAX_SAFE_INTEGER)).toBe(QUEUE_LIST_MAX_MS);
  });

  it('postqueue -j carries the ceiling as its limit (its caller stops it at the sized one) and buffers little', () => {
    expect(dmsCommands.queueJson().timeoutMs).toBe(QUEUE_LIST_MAX_MS);
    // The listing streams into the summary; only a small sample of it is buffered in the worker.
    expect(dmsCommands.queueJson().maxOutputBytes).toBeLessThanOrEqual(64 * 1024);
  });
});

describe('plain Postfix host catalogue', () => {
  it('uses systemd for the service, Postfix tools for the rest', () => {
    expect(postfixHostCommands.serviceIsActive().argv).toEqual(['systemctl', 'is-active', '--', 'postfix@-']);
    expect(postfixHostCommands.serviceIsActive().okExitCodes).toContain(3);
    const restart = postfixHostCommands.serviceRestart('postfix@-');
    expect(restart.argv).toEqual(['systemctl', 'restart', '--', 'postfix@-']);
    expect(restart.stateChanging).toBe(true);
    expect(postfixHostCommands.tailMailLog(10).argv).toEqual(['tail', '-n', '10', '--', '/var/log/mail.log']);
    expect(postfixHostCommands.tailMailLog(10, '/var/log/maillog').argv.at(-1)).toBe('/var/log/maillog');
    expect(postfixHostCommands.queueJson().argv).toEqual(dmsCommands.queueJson().argv);
    expect(() => postfixHostCommands.serviceRestart('-H evil')).toThrow(/systemd unit/);
  });
});

describe('Linux relay catalogue', () => {
  it('checks the port, the service and the log', () => {
    expect(relayLinuxCommands.listeningPorts().argv).toEqual(['ss', '-tln']);
    expect(relayLinuxCommands.systemdIsActive('smtp-relay').argv).toEqual([
      'systemctl',
      'is-active',
      '--',
      'smtp-relay',
    ]);
    expect(relayLinuxCommands.systemdRestart('smtp-relay.service').stateChanging).toBe(true);
    expect(relayLinuxCommands.supervisorStatus('relay').argv).toEqual(['supervisorctl', 'status', 'relay']);
    expect(relayLinuxCommands.supervisorRestart('relays:relay2526').argv).toEqual([
      'supervisorctl',
      'restart',
      'relays:relay2526',
    ]);
    expect(relayLinuxCommands.tailLog('/var/log/relay/error.log', 50).argv).toEqual([
      'tail',
      '-n',
      '50',
      '--',
      '/var/log/relay/error.log',
    ]);
    expect(() => relayLinuxCommands.supervisorRestart('relay && id')).toThrow(/supervisord program/);
    expect(() => relayLinuxCommands.tailLog('/var/log/*.log', 5)).toThrow(CommandInputError);
  });
});
