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
  /**
   * What of this change lives only inside the mail server's container, so that recreating the container
   * (`docker compose up` after a change, an image upgrade) undoes it. Absent: nothing is lost that way.
   */
  lostOnRecreate?: string;
}

function topLines(
  title: string,
  list: { top: readonly { key: string; count: number }[] } | undefined,
  n = 5,
) {
  if (!list?.top.length) return [];
  return [title, ...list.top.slice(0, n).map((e) => `  ${String(e.count).padStart(7)}  ${e.key}`)];
}

// Domain names can be 256 characters; the table must stay readable and inside MAX_BRIEF_CHARS.
const MAX_DOMAIN_COLUMN = 32;

function domainCell(domain: string): string {
  return domain.length > MAX_DOMAIN_COLUMN ? `${domain.slice(0, MAX_DOMAIN_COLUMN - 1)}…` : domain;
}

/**
 * The age histogram as qshape prints it: minutes as column heads, the TOTAL row (messages) first, then
 * one row per top recipient domain when the summary has them, each cell right-aligned.
 */
function ageTable(queue: QueueSummary): string[] {
  const labels = queue.ageBucketLabels;
  const domains = queue.domainAges ?? [];
  // Summaries recorded before the matrix existed keep their one-row table without a name column.
  const named = domains.length > 0;
  const rows: { name: string; total: number; buckets: readonly number[] }[] = [
    { name: named ? 'TOTAL' : '', total: queue.messages, buckets: queue.ageBuckets },
    ...domains.map((d) => ({ name: domainCell(d.domain), total: d.total, buckets: d.buckets })),
  ];
  const width =
    Math.max(...labels.map((l) => l.length), ...rows.flatMap((r) => r.buckets.map((c) => String(c).length))) +
    1;
  const nameWidth = Math.max(...rows.map((r) => r.name.length));
  const totalWidth = named ? Math.max(width, ...rows.map((r) => String(r.total).length + 1)) : 7;
  const line = (name: string, total: string, cells: readonly string[]): string =>
    `  ${name.padStart(nameWidth)}${total.padStart(totalWidth)}${cells.map((c) => c.padStart(width)).join('')}`;
  return [
    named
      ? 'Messages by recipient domain and age in minutes (like qshape):'
      : 'Age in minutes (like qshape):',
    line('', 'T', labels),
    ...rows.map((r) => line(r.name, String(r.total), r.buckets.map(String))),
  ];
}

export function renderBrief(input: BriefInput): string {
  const lines = [`Touches: ${input.touches}`, `Why: ${input.reason}`];
  if (input.lostOnRecreate)
    lines.push(`Warning: this change does not survive recreating the container: ${input.lostOnRecreate}`);
  if (input.failing.length) lines.push('Failing checks:', ...input.failing.map((f) => `  - ${f}`));
  if (input.queue) {
    const q = input.queue;
    lines.push(
      `Queue: ${q.messages} messages, ${q.recipients} recipients` +
        (q.oldest ? `, oldest ${Math.round(q.oldest.ageSeconds / 60)} min` : ''),
      ...ageTable(q),
      ...topLines('Top recipient domains:', q.recipientDomains),
      ...topLines('Top deferral reasons:', q.deferralReasons),
    );
  }
  lines.push(`Command: ${input.command}`);
  const text = lines.join('\n');
  if (text.length <= MAX_BRIEF_CHARS) return text;
  const cutNote = `\n… (cut at ${MAX_BRIEF_CHARS} characters)`;
  return `${text.slice(0, MAX_BRIEF_CHARS - cutNote.length)}${cutNote}`;
}
