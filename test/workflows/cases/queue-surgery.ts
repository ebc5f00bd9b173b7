/** queueSurgery: nothing selected, a dry run, the approval (given, refused, timed out) and what is left. */
import { expect } from 'vitest';
import type { FakeAnswer, FakeCall } from '../fake-activities.js';
import { approve, refusals, type RunbookCase } from '../case.js';

const SELECTED_AT = 1_760_000_123;
const SENDER = { sender: 'flood@spam.test' };

function selection(matched: number): FakeAnswer<'selectQueuedMessages'> {
  return {
    ok: true,
    summary:
      matched === 0
        ? 'no queued message matches sender flood@spam.test (of 50 queued)'
        : `${matched} of 50 queued messages match sender flood@spam.test (to example.com ${matched})`,
    evidence: {
      criteria: 'sender flood@spam.test',
      matched,
      scanned: 50,
      selectedAt: SELECTED_AT,
      sample: [],
    },
  };
}

/** The action reaches only what the approver was shown: the selection's time and count, and the re-check too. */
function actedOnTheShownSelection({ calls }: { calls: readonly FakeCall[] }): void {
  const applied = calls.filter((c) => c.activity === 'applyQueueSurgery');
  expect(applied.map((c) => [(c.args[1] as { selectedAt: number }).selectedAt, c.args[2]])).toEqual([
    [SELECTED_AT, 3],
  ]);
  const reselected = calls.filter((c) => c.activity === 'selectQueuedMessages').slice(1);
  expect(reselected.map((c) => (c.args[1] as { selectedAt?: number }).selectedAt)).toEqual([SELECTED_AT]);
}

export const queueSurgeryCases: RunbookCase[] = [
  {
    name: 'nothing-selected',
    params: SENDER,
    world: { selectQueuedMessages: selection(0) },
    expect: {
      verdict: 'healthy',
      cause: /^no queued message matches sender flood@spam.test \(of 50 queued\): nothing to do$/,
      steps: ['select-messages ok'],
    },
  },
  {
    name: 'dry-run',
    params: { ...SENDER, dryRun: true },
    world: { selectQueuedMessages: selection(3) },
    expect: {
      verdict: 'healthy',
      cause: /^dry run: 3 of 50 queued messages match .*; nothing changed$/,
      steps: ['select-messages ok'],
    },
  },
  {
    name: 'hold-approved',
    params: SENDER,
    world: { selectQueuedMessages: [selection(3), selection(0)] },
    gates: [approve('hold-messages')],
    expect: {
      verdict: 'fixed',
      cause: /^held 3 messages .*; none of the selection is left$/,
      steps: ['select-messages ok', 'hold-messages ok', 'selection-left ok'],
      actions: { applyQueueSurgery: 1 },
    },
    also: actedOnTheShownSelection,
  },
  ...refusals('hold', 'hold-messages', {
    params: SENDER,
    world: { selectQueuedMessages: selection(3) },
    steps: ['select-messages ok'],
  }),
  {
    name: 'delete-refused-selection-grew',
    params: { ...SENDER, action: 'delete' },
    world: {
      selectQueuedMessages: selection(3),
      applyQueueSurgery: {
        ok: false,
        summary:
          'refused: 5 messages match now but 3 were approved for deletion; nothing deleted, start the runbook again to review the new selection',
        evidence: { action: 'delete', approved: 3, selected: 5, changed: 0, batches: 0 },
      },
    },
    gates: [approve('delete-messages')],
    expect: {
      verdict: 'needs-human',
      cause: /^refused: 5 messages match now but 3 were approved for deletion/,
      steps: ['select-messages ok', 'delete-messages problem'],
      actions: { applyQueueSurgery: 1 },
    },
  },
  {
    name: 'release-approved-but-some-left',
    params: { ...SENDER, action: 'release' },
    world: {
      selectQueuedMessages: [selection(3), selection(1)],
      applyQueueSurgery: {
        ok: true,
        summary: 'released 2 messages (postsuper release, 1 batches)',
        evidence: { action: 'release', approved: 3, selected: 3, changed: 2, batches: 1 },
      },
    },
    gates: [approve('release-messages')],
    expect: {
      verdict: 'failed',
      cause: /^released 2 messages .*, but 1 of 50 queued messages match/,
      steps: ['select-messages ok', 'release-messages ok', 'selection-left ok'],
      actions: { applyQueueSurgery: 1 },
    },
    also: actedOnTheShownSelection,
  },
  {
    name: 'invalid-params',
    params: { action: 'hold' },
    expect: { fails: /queue surgery: name at least one of sender/, actions: {} },
    also: ({ calls }) => expect(calls.filter((c) => c.activity === 'selectQueuedMessages')).toEqual([]),
  },
];
