/** The CLI's pure parts: the list query, the watch events and their text, one-line errors. */
import { describe, expect, it } from 'vitest';
import { errorLine } from '../../src/cli/output.js';
import { evidenceText, renderEvent, renderList, statusEvents } from '../../src/cli/render.js';
import { listQuery } from '../../src/cli/runs.js';
import type { RunbookStatus } from '../../src/shared/types.js';

const base: RunbookStatus = {
  runbook: 'queueBacklog',
  target: 'lab',
  steps: [],
  decisions: [],
  refused: [],
  alertResolved: false,
};
const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

describe('list query', () => {
  it('filters on the custom search attributes', () => {
    expect(listQuery({ awaiting: true, target: 'lab', runbook: 'queueBacklog' }, 'q')).toBe(
      "TaskQueue = 'q' AND ExecutionStatus = 'Running' AND MrbAwaitingApproval = true AND MrbTarget = 'lab' AND MrbRunbook = 'queueBacklog'",
    );
    expect(listQuery({ all: true }, 'q')).toBe("TaskQueue = 'q'");
    expect(() => listQuery({ target: "x' OR 1=1" }, 'q')).toThrow(/characters other than/);
  });
});

describe('watch events', () => {
  it('reports ended steps and decisions in time order, then the pending approval, then what runs', () => {
    const first: RunbookStatus = {
      ...base,
      steps: [{ name: 'look', kind: 'check', verdict: 'ok', summary: 'running', startedAt: t(0) }],
    };
    expect(statusEvents(undefined, first).map((e) => e.event)).toEqual(['step-started']);
    const second: RunbookStatus = {
      ...base,
      steps: [
        {
          name: 'look',
          kind: 'check',
          verdict: 'problem',
          summary: 'broken',
          startedAt: t(0),
          endedAt: t(1),
        },
      ],
      pending: {
        requestId: 'repair#1.abcdef01',
        step: 'repair',
        reason: 'broken',
        brief: 'Touches: the probe',
        requestedAt: t(1),
        deadline: t(100),
        policy: { approvers: [], minApprovals: 1, fourEyes: true, allowUnsigned: true },
        approvals: [],
      },
    };
    expect(statusEvents(first, second).map((e) => e.event)).toEqual(['step-ended', 'pending']);
    expect(statusEvents(second, second)).toEqual([]);
    const third: RunbookStatus = {
      ...second,
      pending: undefined,
      decisions: [
        {
          request: 'repair#1.abcdef01',
          step: 'repair',
          approved: true,
          by: 'alice',
          at: t(2),
          via: 'update',
          authentication: 'unsigned',
        },
      ],
      steps: [
        ...second.steps,
        {
          name: 'repair',
          kind: 'action',
          verdict: 'ok',
          summary: 'repaired',
          startedAt: t(2),
          endedAt: t(3),
        },
        { name: 'look-again', kind: 'check', verdict: 'ok', summary: 'running', startedAt: t(3) },
      ],
    };
    const events = statusEvents(second, third);
    expect(events.map((e) => e.event)).toEqual(['decision', 'step-ended', 'step-started']);
    expect(events.map((e) => renderEvent(e, 'wf-1'))).toEqual([
      '👍 repair approved by alice (update)',
      '✅ repair: repaired (1.0s)',
      '▶  look-again (check) …',
    ]);
    expect(renderEvent({ event: 'pending', pending: second.pending! }, 'wf-1')).toContain(
      'mail-runbooks approve wf-1 --step repair --by <your-name>',
    );
  });
});

describe('text output', () => {
  it('cuts evidence, aligns the list, folds errors to one line', () => {
    expect(evidenceText({ a: 'x'.repeat(50) }, 10)).toBe('{"a":"xxxx… (58 chars; --json shows all)');
    expect(renderList([])).toBe('no matching runs');
    const text = renderList([
      {
        workflowId: 'wf-1',
        runbook: 'queueBacklog',
        workflowType: 'queueBacklog',
        status: 'RUNNING',
        target: 'lab',
        step: 'look',
        awaitingApproval: true,
        started: t(0),
      },
    ]);
    expect(text.split('\n')).toHaveLength(2);
    expect(text).toMatch(/wf-1\s+queueBacklog\s+lab\s+running\s+look\s+AWAITING/);
    expect(errorLine(new Error('first\n  second\n'))).toBe('first second');
  });
});
