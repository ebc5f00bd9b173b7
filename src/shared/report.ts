/** Renders a run's state as markdown: the final report, and the live "current details" the Web UI shows. */
import { describeHolder } from './guard.js';
import type { RunbookStatus, StepRecord } from './types.js';
import { CLI_COMMAND } from './cli-command.js';

/**
 * One mark per step verdict, shared by the Web UI's details and the CLI. Plain ASCII on purpose: emoji
 * render as empty boxes wherever no colour-emoji font is installed (the Web UI in a bare chromium, many
 * terminals and mail clients); upper case where a person should look.
 */
export const STEP_MARK: Record<StepRecord['verdict'], string> = {
  ok: '[ok]',
  problem: '[PROBLEM]',
  error: '[ERROR]',
  skipped: '[skipped]',
  rejected: '[REJECTED]',
  approved: '[approved]',
  unattended: '[unattended]',
};

function stepLine(step: StepRecord): string {
  return `| ${STEP_MARK[step.verdict]} | \`${step.name}\` | ${step.kind} | ${step.summary.replace(/\|/g, '\\|')} |`;
}

export function renderStatusMarkdown(status: RunbookStatus, workflowId?: string): string {
  const lines: string[] = [`## ${status.runbook} on ${status.target ?? '(default target)'}`];
  if (status.verdict) lines.push(`**Verdict: ${status.verdict}** — ${status.cause ?? ''}`);
  else if (status.currentStep) lines.push(`Current step: \`${status.currentStep}\``);
  const p = status.pending;
  if (p) {
    const votes =
      p.policy.minApprovals > 1 ? ` (${p.approvals.length} of ${p.policy.minApprovals} approvals)` : '';
    lines.push(
      '',
      `### Awaiting approval: \`${p.step}\`${votes}`,
      `Request \`${p.requestId}\`, deadline ${p.deadline}` +
        (p.policy.approvers.length ? `; approvers: ${p.policy.approvers.join(', ')}` : ''),
      '',
      '```',
      p.brief,
      '```',
      workflowId
        ? `Decide: \`${CLI_COMMAND} approve ${workflowId} --request '${p.requestId}' --by <you> --key <your-ed25519-key>\` (or reject)`
        : '',
      p.policy.allowUnsigned
        ? `Unsigned decisions count on this target: from the UI, Signal \`approve\` or \`reject\` with \`{"request": "${p.requestId}", "by": "<you>", "comment": "..."}\`.`
        : '',
    );
  }
  const lease = status.lease;
  if (lease?.state === 'waiting') {
    lines.push(
      '',
      `### Waiting for the target: \`${lease.step}\``,
      `${lease.holder ? `${describeHolder(lease.holder)} acts on ${lease.target} since ${lease.since ?? '?'}` : `waiting for the lease of ${lease.target}`}; this run gives up at ${lease.waitUntil ?? '?'} (limits.leaseWaitSeconds).`,
    );
  }
  if (status.steps.length) {
    lines.push('', '| verdict | step | kind | result |', '|---|---|---|---|', ...status.steps.map(stepLine));
  }
  if (status.decisions.length) {
    lines.push('', '### Decisions');
    for (const d of status.decisions) {
      lines.push(
        `- ${d.at}: \`${d.step}\` ${d.approved ? 'approved' : 'rejected'} by ${d.by} (${d.via}, ${d.authentication})${d.comment ? `: ${d.comment}` : ''}`,
      );
    }
  }
  if (status.refused.length) {
    lines.push('', '### Refused decisions');
    for (const r of status.refused.slice(-10)) {
      lines.push(`- ${r.at}: ${r.by ?? '(no name)'} by ${r.via}, refused (${r.rule}): ${r.reason}`);
    }
  }
  return lines.join('\n');
}
