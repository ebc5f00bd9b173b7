/** `audit`'s pure parts: --since, the visibility query, a run's entries, their order and their text. */
import { describe, expect, it } from 'vitest';
import {
  auditEntries,
  auditQuery,
  auditTimeline,
  parseSince,
  renderAudit,
  type AuditEntry,
} from '../../src/cli/audit.js';
import { CliError } from '../../src/cli/output.js';
import type { RunView } from '../../src/cli/run-state.js';
import type { RunbookStatus } from '../../src/shared/types.js';

const t = (minute: number) => new Date(Date.UTC(2026, 0, 1, 8, minute)).toISOString();

const status: RunbookStatus = {
  runbook: 'relayUnresponsive',
  target: 'lab',
  steps: [],
  decisions: [
    {
      request: 'restart-relay#1',
      step: 'restart-relay',
      approved: true,
      by: 'alice',
      comment: 'relay down since 07:50',
      at: t(10),
      via: 'update',
      authentication: 'signed-cli',
    },
    {
      request: 'flush-queue#2',
      step: 'flush-queue',
      approved: false,
      by: 'bob',
      at: t(30),
      via: 'signal',
      authentication: 'unsigned',
    },
  ],
  refused: [
    {
      at: t(20),
      via: 'signal',
      request: 'restart-relay#9',
      by: 'mallory',
      approved: true,
      rule: 'request',
      reason: 'request restart-relay#9 is not pending',
    },
  ],
  alertResolved: false,
};

function view(overrides: Partial<RunView> = {}): RunView {
  return {
    workflowId: 'alert.relayUnresponsive.lab',
    runId: 'run-1',
    workflowType: 'relayUnresponsive',
    taskQueue: 'mail-runbooks',
    execution: 'RUNNING',
    startTime: t(0),
    status,
    ...overrides,
  };
}

describe('--since', () => {
  const now = new Date('2026-01-08T12:00:00Z');
  it('takes a duration back from now, or an ISO time', () => {
    expect(parseSince('24h', now).toISOString()).toBe('2026-01-07T12:00:00.000Z');
    expect(parseSince('7d', now).toISOString()).toBe('2026-01-01T12:00:00.000Z');
    expect(parseSince('30m', now).toISOString()).toBe('2026-01-08T11:30:00.000Z');
    expect(parseSince('2w', now).toISOString()).toBe('2025-12-25T12:00:00.000Z');
    expect(parseSince('2026-01-05T08:00Z', now).toISOString()).toBe('2026-01-05T08:00:00.000Z');
    expect(parseSince('2026-01-05T08:00:00+02:00', now).toISOString()).toBe('2026-01-05T06:00:00.000Z');
    expect(parseSince('2026-01-05', now).toISOString()).toBe('2026-01-05T00:00:00.000Z');
  });
  it('refuses anything else, naming the option', () => {
    for (const bad of ['', 'yesterday', '24', '1y', '-1h', '2026-13-45', "2026-01-01' OR true"])
      expect(() => parseSince(bad, now)).toThrow(CliError);
    expect(() => parseSince('soon', now)).toThrow(/--since needs an ISO time .* got "soon"/);
  });
});

describe('audit query', () => {
  it('reads running and closed runs, filtered like list', () => {
    expect(auditQuery({}, 'q')).toBe(`TaskQueue = 'q' AND WorkflowType != 'targetGuard'`);
    expect(auditQuery({ target: 'lab', runbook: 'queueBacklog' }, 'q')).toBe(
      `TaskQueue = 'q' AND WorkflowType != 'targetGuard' AND MrbTarget = 'lab' AND MrbRunbook = 'queueBacklog'`,
    );
  });
  it('with --since: every run open at some point since then', () => {
    expect(auditQuery({ since: new Date('2026-01-01T00:00:00Z') }, 'q')).toBe(
      `TaskQueue = 'q' AND WorkflowType != 'targetGuard' AND (ExecutionStatus = 'Running' OR CloseTime >= '2026-01-01T00:00:00.000Z')`,
    );
  });
  it('refuses names that would change the query', () => {
    expect(() => auditQuery({ target: "lab' OR true" }, 'q')).toThrow(/target "lab' OR true" has characters/);
    expect(() => auditQuery({ runbook: 'a b' }, 'q')).toThrow(CliError);
  });
});

describe('audit entries', () => {
  it('one entry per decision and per refused decision, with the run, the channel and the proof', () => {
    const entries = auditEntries(view());
    expect(entries).toEqual([
      {
        at: t(10),
        target: 'lab',
        runbook: 'relayUnresponsive',
        workflowId: 'alert.relayUnresponsive.lab',
        runId: 'run-1',
        request: 'restart-relay#1',
        step: 'restart-relay',
        outcome: 'approved',
        by: 'alice',
        via: 'update',
        authentication: 'signed-cli',
        comment: 'relay down since 07:50',
      },
      expect.objectContaining({ outcome: 'rejected', by: 'bob', via: 'signal', authentication: 'unsigned' }),
      expect.objectContaining({
        outcome: 'refused',
        rule: 'request',
        by: 'mallory',
        request: 'restart-relay#9',
        reason: 'request restart-relay#9 is not pending',
      }),
    ]);
    expect(entries[2]).not.toHaveProperty('authentication', expect.anything());
  });
  it('a run without a status has none; the listing names a target the status leaves out', () => {
    expect(auditEntries(view({ status: undefined, statusError: 'no worker' }))).toEqual([]);
    const { target: _omitted, ...untargeted } = status;
    void _omitted;
    const entries = auditEntries(view({ status: untargeted }), { target: 'relay-1', runbook: 'x' });
    expect(entries.map((e) => [e.target, e.runbook])).toEqual(
      entries.map(() => ['relay-1', 'relayUnresponsive']),
    );
  });
  it('newest first across runs; older than --since left out', () => {
    const other = auditEntries(
      view({
        runId: 'run-0',
        status: { ...status, decisions: [{ ...status.decisions[0]!, at: t(25) }], refused: [] },
      }),
    );
    const timeline = auditTimeline([...auditEntries(view()), ...other]);
    expect(timeline.map((e) => [e.at, e.runId, e.outcome])).toEqual([
      [t(30), 'run-1', 'rejected'],
      [t(25), 'run-0', 'approved'],
      [t(20), 'run-1', 'refused'],
      [t(10), 'run-1', 'approved'],
    ]);
    expect(auditTimeline(timeline, new Date(t(20))).map((e) => e.at)).toEqual([t(30), t(25), t(20)]);
  });
});

describe('audit text', () => {
  it('one aligned line per entry, the comment or reason last', () => {
    const entries: AuditEntry[] = auditTimeline(auditEntries(view()));
    entries[0]!.comment = 'line one\nline two';
    const lines = renderAudit(entries).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(
      /^TIME\s+TARGET\s+RUNBOOK\s+RUN\s+REQUEST\s+STEP\s+OUTCOME\s+BY\s+VIA\s+AUTH\s+COMMENT\/REASON$/,
    );
    // Every column starts at the same place on every line.
    const column = (line: string, text: string) => line.indexOf(text);
    expect(column(lines[1]!, 'rejected')).toBe(column(lines[0]!, 'OUTCOME'));
    expect(column(lines[2]!, 'refused: request')).toBe(column(lines[0]!, 'OUTCOME'));
    expect(column(lines[3]!, 'approved')).toBe(column(lines[0]!, 'OUTCOME'));
    expect(column(lines[3]!, 'signed-cli')).toBe(column(lines[0]!, 'AUTH'));
    expect(lines[1]).toMatch(/bob\s+signal\s+unsigned\s+line one line two$/);
    expect(lines[2]).toMatch(/mallory\s+signal\s+-\s+request restart-relay#9 is not pending$/);
    expect(lines[3]).toContain('alert.relayUnresponsive.lab run-1');
    expect(lines[3]).toMatch(/ relay down since 07:50$/);
    expect(renderAudit([])).toBe('no decisions');
  });
});
