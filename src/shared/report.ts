/** Renders a run's state as markdown: the final report, and the live "current details" the Web UI shows. */
import type { RunbookStatus, StepRecord } from './types.js';

/** One mark per step verdict, shared by the Web UI's details and the CLI. */
export const STEP_MARK: Record<StepRecord['verdict'], string> = {
  ok: '✅',
  problem: '⚠️',
  error: '❌',
  skipped: '⏭️',
  rejected: '🛑',
  approved: '👍',
  unattended: '🤖',
};

function stepLine(step: StepRecord): string {
  return `| ${STEP_MARK[step.verdict]} | \`${step.name}\` | ${step.kind} | ${step.summary.replace(/\|/g, '\\|')} |`;
}

export function renderStatusMarkdown(status: RunbookStatus, workflowId?: string): string {
  const lines: string[] = [`## ${status.runbook} on ${status.target ?? '(default target)'}`];
  if (status.verdict) lines.push(`**Verdict: ${status.verdict}** — ${status.cause ?? ''}`);
  else if (status.currentStep) lines.push(`Current step: \`${status.currentStep}\``);
  if (status.pending) {
    lines.push(
      '',
      `### Awaiting approval: \`${status.pending.step}\``,
      status.pending.reason,
      `Deadline: ${status.pending.deadline}. Approve from the UI: Signal \`approve\` with \`{"by": "your-name", "comment": "..."}\`` +
        (workflowId ? `, or \`mail-runbooks approve ${workflowId} --by your-name\`.` : '.'),
    );
  }
  if (status.steps.length) {
    lines.push('', '| | step | kind | result |', '|---|---|---|---|', ...status.steps.map(stepLine));
  }
  if (status.decisions.length) {
    lines.push('', '### Decisions');
    for (const d of status.decisions) {
      lines.push(
        `- ${d.at}: \`${d.step}\` ${d.approved ? 'approved' : 'rejected'} by ${d.by} (${d.via})${d.comment ? `: ${d.comment}` : ''}`,
      );
    }
  }
  return lines.join('\n');
}
