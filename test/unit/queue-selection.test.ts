import { describe, expect, it } from 'vitest';
import {
  describeCriteria,
  parsePostqueueJson,
  parsePostsuperTotals,
  parseSurgeryRequest,
  selectionMatcher,
  type SurgerySpec,
} from '../../src/parsers/index.js';
import { readFixture } from '../fixtures/read-fixture.js';

// Captured from real Postfix: deferred mail (relay port closed, amavis stopped), bounces, one held message.
const queue = parsePostqueueJson(readFixture('postqueue-j.txt'));
const AT = Math.max(...queue.map((m) => m.arrivalTime)) + 3600;

function selected(params: Record<string, unknown>, selectedAt = AT): string[] {
  const spec: SurgerySpec = { ...parseSurgeryRequest(params), selectedAt };
  return queue.filter(selectionMatcher(spec)).map((m) => m.queueId);
}

const ids = (pred: (m: (typeof queue)[number]) => boolean): string[] =>
  queue.filter(pred).map((m) => m.queueId);

describe('queue surgery request', () => {
  it('defaults to hold, no dry run, and lower-cases addresses and domains', () => {
    expect(parseSurgeryRequest({ sender: ' Bob@Capture.TEST ' })).toEqual({
      sender: 'bob@capture.test',
      action: 'hold',
      dryRun: false,
    });
  });

  it('takes the strings the CLI sends (--param olderThanMinutes=60 --param dryRun=true)', () => {
    expect(parseSurgeryRequest({ olderThanMinutes: '60', dryRun: 'true', action: 'delete' })).toEqual({
      olderThanMinutes: 60,
      dryRun: true,
      action: 'delete',
    });
    expect(parseSurgeryRequest({ domain: '@Example.NET' }).domain).toBe('example.net');
  });

  it.each([
    [{}, 'name at least one of sender'],
    [{ action: 'delete' }, 'name at least one of sender'],
    [{ sender: 'not an address' }, 'params.sender'],
    [{ sender: 'a@b.test; rm -rf /' }, 'params.sender'],
    [{ domain: 'exa mple.com' }, 'params.domain must be a domain name'],
    [{ olderThanMinutes: '-5' }, 'params.olderThanMinutes must be 0 or more'],
    [{ olderThanMinutes: 'soon' }, 'params.olderThanMinutes must be a number of minutes'],
    [{ olderThanMinutes: 1.5 }, 'must be a whole number'],
    [{ reason: 'x' }, 'params.reason must be at least 3 characters'],
    [{ sender: 'a@b.test', action: 'purge' }, 'params.action'],
    [{ sender: 'a@b.test', dryRun: 'yes' }, 'params.dryRun'],
    [{ sender: 'a@b.test', queue: 'bounce' }, 'params.queue'],
    [{ sender: 'a@b.test', sendr: 'x' }, "unknown parameter 'sendr'"],
    [
      { sender: 'a@b.test', action: 'release', queue: 'deferred' },
      'release takes messages from the hold queue',
    ],
    [{ sender: 'a@b.test', action: 'hold', queue: 'hold' }, 'on hold already'],
  ])('refuses %j with a message naming the problem', (params, message) => {
    expect(() => parseSurgeryRequest(params)).toThrow(message);
  });

  it('describes the criteria in one line', () => {
    expect(
      describeCriteria(parseSurgeryRequest({ sender: 'a@b.test', olderThanMinutes: 30, queue: 'deferred' })),
    ).toBe('sender a@b.test, older than 30 min, in the deferred queue');
  });
});

describe('selection on a captured queue', () => {
  it('by sender, and the null sender of bounces as <>', () => {
    expect(selected({ sender: 'bob@capture.test' })).toEqual(ids((m) => m.sender === 'bob@capture.test'));
    const bounces = selected({ sender: '<>' });
    expect(bounces.length).toBeGreaterThan(0);
    expect(bounces).toEqual(ids((m) => m.sender === 'MAILER-DAEMON' && m.queueName !== 'hold'));
  });

  it('by recipient domain, subdomains included, and by sender domain', () => {
    const remote = selected({ domain: 'remote.test' });
    expect(remote).toEqual(
      ids((m) => m.queueName !== 'hold' && m.recipients.some((r) => r.address.endsWith('@remote.test'))),
    );
    expect(remote.length).toBeGreaterThan(1);
    expect(selected({ domain: 'test' })).toEqual(
      ids((m) => m.queueName !== 'hold' && m.recipients.some((r) => r.address.endsWith('.test'))),
    );
    expect(selected({ senderDomain: 'capture.test' })).toEqual(
      ids((m) => m.queueName !== 'hold' && m.sender.endsWith('@capture.test')),
    );
  });

  it('by deferral reason: raw text or the normalised key the queue summary lists', () => {
    const amavis = ids((m) => m.recipients.some((r) => r.delayReason?.includes(':10024')));
    expect(amavis.length).toBeGreaterThan(0);
    expect(selected({ reason: '127.0.0.1[127.0.0.1]:10024' })).toEqual(amavis);
    expect(selected({ reason: 'connect to <host>:10024: Connection refused' })).toEqual(amavis);
  });

  it('recipient criteria hold for the same recipient', () => {
    expect(selected({ domain: 'remote.test', reason: ':10024' })).toEqual(
      ids((m) =>
        m.recipients.some((r) => r.address.endsWith('@remote.test') && r.delayReason?.includes(':10024')),
      ),
    );
    expect(selected({ recipient: 'grace@remote.test', reason: ':2526' })).toEqual([]);
  });

  it('by age, measured from the moment of selection; later arrivals never match', () => {
    const newest = Math.max(...queue.map((m) => m.arrivalTime));
    expect(selected({ olderThanMinutes: 0 })).toEqual(ids((m) => m.queueName !== 'hold'));
    expect(selected({ olderThanMinutes: 61 })).toEqual([]);
    // Selected before the newest message arrived: that one is not part of the selection.
    expect(selected({ olderThanMinutes: 0 }, newest - 1)).toEqual(
      ids((m) => m.queueName !== 'hold' && m.arrivalTime <= newest - 1),
    );
  });

  it('hold skips mail already on hold; release takes only held mail; delete takes any queue', () => {
    const held = ids((m) => m.queueName === 'hold');
    expect(held.length).toBe(1);
    expect(selected({ olderThanMinutes: 0, action: 'release' })).toEqual(held);
    expect(selected({ olderThanMinutes: 0, action: 'delete' })).toEqual(ids(() => true));
    expect(selected({ olderThanMinutes: 0 })).not.toContain(held[0]);
  });
});

describe('postsuper totals', () => {
  it('reads the totals of a captured hold, release and delete (an unknown id is skipped silently)', () => {
    expect(parsePostsuperTotals(readFixture('postsuper.txt'))).toEqual({
      held: 2,
      released: 2,
      deleted: 2,
      requeued: 0,
    });
  });

  it('one message is "message", and per-message lines are not totals', () => {
    expect(
      parsePostsuperTotals('postsuper: 496C010E6C5: placed on hold\npostsuper: Placed on hold: 1 message\n'),
    ).toEqual({ held: 1, released: 0, deleted: 0, requeued: 0 });
    expect(parsePostsuperTotals('')).toEqual({ held: 0, released: 0, deleted: 0, requeued: 0 });
  });
});
