/** Text for people: `show`, `list` and the events `watch` prints. Pure functions of plain data. */
import { renderStatusMarkdown, STEP_MARK } from '../shared/report.js';
import type { DecisionRecord, PendingApproval, RunbookStatus, StepRecord } from '../shared/types.js';
import type { RunView } from './run-state.js';
import { CLI_COMMAND } from '../shared/cli-command.js';

export { STEP_MARK };

/** Compact JSON cut to `max` characters. */
export function evidenceText(evidence: unknown, max: number): string {
  const text = JSON.stringify(evidence) ?? String(evidence);
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} chars; --json shows all)`;
}

export function durationText(from: string, to: string | undefined): string {
  if (!to) return '';
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return '';
  return ms < 60_000
    ? `${(ms / 1000).toFixed(1)}s`
    : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

export function approveHint(workflowId: string, request: string): string {
  return `${CLI_COMMAND} approve ${workflowId} --request '${request}' --by <your-name> [--key <ed25519 key>] --comment "<why>" (or reject)`;
}

/** `show`: the run, its steps, the pending approval, decisions, the evidence of every step, the report. */
export function renderShow(view: RunView, evidenceChars = 300): string {
  const lines = [
    `run:      ${view.workflowId} (${view.workflowType}, ${view.execution.toLowerCase()})`,
    `started:  ${view.startTime}${view.closeTime ? `, closed ${view.closeTime}` : ''}`,
  ];
  if (view.failure) lines.push(`ended without a report: ${view.failure}`);
  if (view.statusError) lines.push(`status unavailable: ${view.statusError}`);
  const status = view.status;
  if (status) {
    lines.push('', renderStatusMarkdown(status, view.workflowId));
    if (status.pending)
      lines.push('', `To decide: ${approveHint(view.workflowId, status.pending.requestId)}`);
    const withEvidence = status.steps.filter((s) => s.evidence !== undefined);
    if (withEvidence.length || status.pending?.evidence !== undefined) {
      lines.push('', '### Evidence');
      for (const s of withEvidence) lines.push(`- \`${s.name}\`: ${evidenceText(s.evidence, evidenceChars)}`);
      if (status.pending?.evidence !== undefined)
        lines.push(
          `- for the approval of \`${status.pending.step}\`: ${evidenceText(status.pending.evidence, evidenceChars)}`,
        );
    }
  }
  if (view.report) {
    const r = view.report;
    lines.push(
      '',
      '### Report',
      `verdict: ${r.verdict}: ${r.cause}`,
      `target: ${r.target}, ${r.steps.length} steps, ${r.decisions.length} decisions, ` +
        `${r.startedAt} → ${r.finishedAt} (${durationText(r.startedAt, r.finishedAt)})`,
    );
  }
  return lines.join('\n');
}

export interface RunRow {
  workflowId: string;
  runbook: string;
  workflowType: string;
  status: string;
  target?: string;
  step?: string;
  awaitingApproval: boolean;
  verdict?: string;
  started: string;
}

export function renderList(rows: RunRow[]): string {
  if (rows.length === 0) return 'no matching runs';
  const table = [
    ['RUN', 'RUNBOOK', 'TARGET', 'STATUS', 'STEP', 'APPROVAL', 'STARTED'],
    ...rows.map((r) => [
      r.workflowId,
      r.runbook,
      r.target ?? '-',
      r.verdict ? `${r.status.toLowerCase()} (${r.verdict})` : r.status.toLowerCase(),
      r.step ?? '-',
      r.awaitingApproval ? 'AWAITING' : '-',
      r.started,
    ]),
  ];
  return alignColumns(table);
}

/** Rows of cells as aligned columns; `lastUnpadded`: the last column is free text, never widened. */
export function alignColumns(table: string[][], lastUnpadded = false): string {
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const last = table[0]!.length - 1;
  return table
    .map((row) =>
      row
        .map((cell, i) => (lastUnpadded && i === last ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

// --- watch ---------------------------------------------------------------------------------------------

export type WatchEvent =
  | { event: 'step-started'; step: StepRecord; index: number }
  | { event: 'step-ended'; step: StepRecord; index: number }
  | { event: 'pending'; pending: PendingApproval }
  | { event: 'decision'; decision: DecisionRecord }
  | { event: 'alert-resolved' };

/** What changed between two snapshots of a run's status (`previous` undefined: everything so far). */
export function statusEvents(previous: RunbookStatus | undefined, next: RunbookStatus): WatchEvent[] {
  const before = previous?.steps ?? [];
  // Ended steps and decisions in the order they happened, then what waits or runs now.
  const timed: Array<{ at: string; e: WatchEvent }> = [];
  const started: WatchEvent[] = [];
  next.steps.forEach((step, index) => {
    const old = before[index];
    if (step.endedAt && !old?.endedAt)
      timed.push({ at: step.endedAt, e: { event: 'step-ended', step, index } });
    else if (!step.endedAt && !old) started.push({ event: 'step-started', step, index });
  });
  for (const decision of next.decisions.slice(previous?.decisions.length ?? 0))
    timed.push({ at: decision.at, e: { event: 'decision', decision } });
  const events = timed.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)).map((t) => t.e);
  const pending = next.pending;
  if (
    pending &&
    (previous?.pending?.step !== pending.step || previous.pending.requestedAt !== pending.requestedAt)
  )
    events.push({ event: 'pending', pending });
  events.push(...started);
  if (next.alertResolved && !previous?.alertResolved) events.push({ event: 'alert-resolved' });
  return events;
}

/** One line per event for a log or a pipe. */
export function renderEvent(e: WatchEvent, workflowId: string): string {
  switch (e.event) {
    case 'step-started':
      return `[start] ${e.step.name} (${e.step.kind}) …`;
    case 'step-ended':
      return `${STEP_MARK[e.step.verdict]} ${e.step.name}: ${e.step.summary}${
        durationText(e.step.startedAt, e.step.endedAt)
          ? ` (${durationText(e.step.startedAt, e.step.endedAt)})`
          : ''
      }`;
    case 'pending':
      return [
        `[waiting] ${e.pending.step} awaits approval: ${e.pending.reason} (deadline ${e.pending.deadline})`,
        `          ${approveHint(workflowId, e.pending.requestId)}`,
      ].join('\n');
    case 'decision':
      return `${STEP_MARK[e.decision.approved ? 'approved' : 'rejected']} ${e.decision.step} ${e.decision.approved ? 'approved' : 'rejected'} by ${e.decision.by} (${e.decision.via})${e.decision.comment ? `: ${e.decision.comment}` : ''}`;
    case 'alert-resolved':
      return '[info] the alert resolved; remediation re-checks before acting';
  }
}

/** The redrawn progress line on a terminal: what runs or waits now, for how long. */
export function progressLine(status: RunbookStatus, nowMs: number, spinner: string): string {
  const done = status.steps.filter((s) => s.endedAt).length;
  const head = `${spinner} [${done} step${done === 1 ? '' : 's'} done]`;
  if (status.pending) {
    const waited = durationText(status.pending.requestedAt, new Date(nowMs).toISOString());
    return `${head} awaiting approval: ${status.pending.step} (${waited})`;
  }
  const current = status.steps.at(-1);
  if (current && !current.endedAt) {
    return `${head} ${current.name} running (${durationText(current.startedAt, new Date(nowMs).toISOString())})`;
  }
  return `${head} working…`;
}
