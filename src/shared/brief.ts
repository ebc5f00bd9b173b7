/**
 * What an approver reads before saying yes: what the action touches and how much, why it is proposed (the
 * failing checks), the queue's shape when a queue summary was taken, and the exact command. Plain text,
 * bounded, the same in the status query, the Web UI, the CLI and every notification.
 */
import type { QueueSummary } from '../parsers/queue-summary.js';

export const MAX_BRIEF_CHARS = 4_000;

export interface BriefInput {
  /** What the action will touch, and how much: "142 deferred messages", "the relay's watchdog service". */
  touches: string;
  /** Why it is proposed (one line). */
  reason: string;
  /** The summaries of the checks that failed so far in this run. */
  failing: string[];
  /** The latest queue summary of the run, when it took one. */
  queue?: QueueSummary;
  /** The exact command, as a person would type it on the host. */
  command: string;
}

function topLines(
  title: string,
  list: { top: readonly { key: string; count: number }[] } | undefined,
  n = 5,
) {
  if (!list?.top.length) return [];
  return [title, ...list.top.slice(0, n).map((e) => `  ${String(e.count).padStart(7)}  ${e.key}`)];
}

/** The age histogram as qshape prints it: minutes as column heads, message counts below. */
function ageRow(queue: QueueSummary): string[] {
  const labels = queue.ageBucketLabels;
  const width =
    Math.max(...labels.map((l) => l.length), ...queue.ageBuckets.map((c) => String(c).length)) + 1;
  return [
    'Age in minutes (like qshape):',
    `  ${'T'.padStart(7)}${labels.map((l) => l.padStart(width)).join('')}`,
    `  ${String(queue.messages).padStart(7)}${queue.ageBuckets.map((c) => String(c).padStart(width)).join('')}`,
  ];
}

export function renderBrief(input: BriefInput): string {
  const lines = [`Touches: ${input.touches}`, `Why: ${input.reason}`];
  if (input.failing.length) lines.push('Failing checks:', ...input.failing.map((f) => `  - ${f}`));
  if (input.queue) {
    const q = input.queue;
    lines.push(
      `Queue: ${q.messages} messages, ${q.recipients} recipients` +
        (q.oldest ? `, oldest ${Math.round(q.oldest.ageSeconds / 60)} min` : ''),
      ...ageRow(q),
      ...topLines('Top recipient domains:', q.recipientDomains),
      ...topLines('Top deferral reasons:', q.deferralReasons),
    );
  }
  lines.push(`Command: ${input.command}`);
  const text = lines.join('\n');
  return text.length <= MAX_BRIEF_CHARS
    ? text
    : `${text.slice(0, MAX_BRIEF_CHARS - 20)}\n… (cut at ${MAX_BRIEF_CHARS} characters)`;
}
