import { describe, expect, it } from 'vitest';
import { summariseQueueJson } from '../../src/parsers/index.js';
import { MAX_BRIEF_CHARS, renderBrief } from '../../src/shared/brief.js';

const NOW = 1_795_320_000;

function queueLine(minutesAgo: number, ...addresses: string[]): string {
  return JSON.stringify({
    queue_name: 'deferred',
    queue_id: `Q${minutesAgo}`,
    arrival_time: NOW - minutesAgo * 60,
    message_size: 100,
    sender: 's@here.example',
    recipients: addresses.map((address) => ({ address, delay_reason: 'connect to relay: timeout' })),
  });
}

const SMALL_QUEUE = summariseQueueJson(
  [
    queueLine(1, 'a@a.example', 'b@a.example'),
    queueLine(7, 'c@a.example', 'd@b.example'),
    queueLine(30, 'e@a.example'),
    queueLine(2000, 'f@b.example'),
  ].join('\n'),
  { now: NOW },
);

const INPUT = {
  touches: '4 deferred messages',
  reason: 'the queue is backing up',
  failing: ['queue-summary: 4 queued'],
  command: 'postqueue -f',
};

describe('renderBrief', () => {
  it('shows the queue as qshape does: TOTAL first, then one right-aligned row per top domain', () => {
    const lines = renderBrief({ ...INPUT, queue: SMALL_QUEUE }).split('\n');
    const start = lines.indexOf('Messages by recipient domain and age in minutes (like qshape):');
    expect(start).toBeGreaterThan(0);
    expect(lines.slice(start + 1, start + 5)).toEqual([
      '                T     5    10    20    40    80   160   320   640  1280 1280+',
      '      TOTAL     4     1     1     0     1     0     0     0     0     0     1',
      '  a.example     3     1     1     0     1     0     0     0     0     0     0',
      '  b.example     2     0     1     0     0     0     0     0     0     0     1',
    ]);
    // The one-row age table is replaced, not repeated.
    expect(lines).not.toContain('Age in minutes (like qshape):');
    expect(lines.at(-1)).toBe('Command: postqueue -f');
  });

  it('keeps the one-row table for summaries recorded before the domain matrix existed', () => {
    const { domainAges: _dropped, ...older } = SMALL_QUEUE;
    const lines = renderBrief({ ...INPUT, queue: older }).split('\n');
    const start = lines.indexOf('Age in minutes (like qshape):');
    expect(lines.slice(start + 1, start + 3)).toEqual([
      '        T     5    10    20    40    80   160   320   640  1280 1280+',
      '        4     1     1     0     1     0     0     0     0     0     1',
    ]);
  });

  it(`stays within ${MAX_BRIEF_CHARS} characters with long domains and many failing checks`, () => {
    const long = `${'x'.repeat(250)}.example`;
    const queue = summariseQueueJson(
      Array.from({ length: 12 }, (_, i) => queueLine(i * 100, `a@${i}${long}`)).join('\n'),
      { now: NOW },
    );
    const table = renderBrief({ ...INPUT, queue }).split('\n');
    // Long domains are cut in the table, so its rows stay narrow.
    const row = table.find((l) => l.includes('0xxx'));
    expect(row).toMatch(/^ {2}0x{30}… {5}1 /);
    const text = renderBrief({
      ...INPUT,
      failing: Array.from({ length: 200 }, (_, i) => `check ${i}`),
      queue,
    });
    expect(text.length).toBeLessThanOrEqual(MAX_BRIEF_CHARS);
    expect(text).toMatch(/cut at 4000 characters\)$/);
  });
});

it('warns when the change lives only inside the container', () => {
  const base = { touches: 'one file', reason: 'why', failing: [], command: 'chmod 0600 /k' };
  expect(renderBrief(base)).not.toContain('Warning');
  expect(renderBrief({ ...base, lostOnRecreate: 'the key is a file in the container' })).toContain(
    'Warning: this change does not survive recreating the container: the key is a file in the container',
  );
});
