import { describe, expect, it } from 'vitest';
import {
  guardMetadata,
  plainText,
  runMetadata,
  scheduledStartMetadata,
} from '../../src/shared/run-metadata.js';

describe("the Web UI's summary and details of a run", () => {
  it('says runbook, target and who started it, with the runbook described and parameter names only', () => {
    const m = runMetadata({
      runbook: 'startStop',
      target: 'mx1',
      startedBy: 'alice (manual start)',
      trigger: { kind: 'manual', ref: 'alice' },
      params: { component: 'relay', action: 'stop' },
    });
    expect(m.staticSummary).toBe('startStop on mx1 (started by alice (manual start))');
    expect(m.staticDetails).toContain(
      '**startStop** on target **mx1**: start or stop the mail server or the relay',
    );
    expect(m.staticDetails).toContain('| parameters | component, action (values in the workflow input) |');
    expect(m.staticDetails).not.toMatch(/relay \||\bstop\b \|/);
  });

  it('cleans outside text: one line, no markdown, HTML or table syntax, bounded', () => {
    expect(plainText('Relay<script>alert(1)</script>')).toBe('Relay?script?alert(1)?/script?');
    expect(plainText('a|b*c`d[e]f\n**g**')).toBe('a?b?c?d?e?f ??g??');
    expect(plainText('x'.repeat(200), 20)).toBe(`${'x'.repeat(19)}…`);
    const m = runMetadata({
      runbook: 'queueBacklog',
      target: 'lab',
      startedBy: 'alert X|Y\n# heading',
      trigger: { kind: 'alert', ref: 'f' },
    });
    expect(m.staticSummary).toBe('queueBacklog on lab (started by alert X?Y # heading)');
    expect(m.staticDetails.split('\n').filter((l) => l.startsWith('|'))).toHaveLength(4);
  });

  it("the schedules' starter and the target guard say what they are", () => {
    expect(
      scheduledStartMetadata({ runbook: 'statusCheck', target: 'lab', schedule: 'nightly' }).staticSummary,
    ).toBe('start statusCheck on lab (schedule nightly)');
    expect(guardMetadata('mail-runbooks').staticSummary).toBe('target guard for task queue mail-runbooks');
  });
});
