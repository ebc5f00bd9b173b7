/**
 * Queue surgery: select queued messages (a bounded summary and a sample for the approver) and hold,
 * release or delete exactly what a request selects, in postsuper batches with progress heartbeats.
 * Re-applying is harmless: held mail is no longer selected for hold, released mail for release, and
 * deleted mail is gone, so a retried attempt only finishes what an earlier one started.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { COMMAND_LIMIT_MS, MAX_IDS_PER_POSTSUPER } from '../commands/index.js';
import type { Target } from '../config/schema.js';
import {
  describeCriteria,
  parseOnceShow,
  parsePostsuperTotals,
  QueueSummaryAccumulator,
  selectionMatcher,
  toQueuedMessage,
  type QueuedMessage,
  type QueueSummary,
  type SurgeryAction,
  type SurgerySpec,
} from '../parsers/index.js';
import type { StepOutcome } from '../shared/types.js';
import { onMailServer, targetConfig } from './context.js';
import { attemptNumber, beat } from './heartbeat.js';
import { awaitEarlier, markerPrefix, runMarked } from './once.js';
import { outcome } from './outcome.js';
import { buildOrFail, runOk } from './run.js';
import { streamQueueJson } from './queue.js';

const SAMPLE_SIZE = 10;
const TOP_ENTRIES = 5;

export interface SampleMessage {
  queueId: string;
  queue: string;
  sender: string;
  recipients: string[];
  ageMinutes: number;
  reason?: string;
}

export interface SelectionEvidence {
  /** What was asked, as one line. */
  criteria: string;
  action: SurgeryAction;
  /** Epoch seconds the selection was made at (ages are measured from it). */
  selectedAt: number;
  /** Messages in the queue when it was read. */
  scanned: number;
  matched: number;
  /** Counts, domains, senders, reasons and ages of the matched messages only. */
  summary: Omit<QueueSummary, 'invalidSamples'>;
  sample: SampleMessage[];
}

function sampleOf(m: QueuedMessage, now: number): SampleMessage {
  const reason = m.recipients.find((r) => r.delayReason !== undefined)?.delayReason;
  return {
    queueId: m.queueId,
    queue: m.queueName,
    sender: m.sender === '' ? 'MAILER-DAEMON' : m.sender,
    recipients: m.recipients.slice(0, 3).map((r) => r.address),
    ageMinutes: Math.round(Math.max(0, now - m.arrivalTime) / 60),
    ...(reason !== undefined && { reason: reason.slice(0, 160) }),
  };
}

interface Selection {
  evidence: SelectionEvidence;
  ids: string[];
}

/** One pass over `postqueue -j`: the matching ids and a bounded picture of them. */
async function select(target: Target, spec: SurgerySpec): Promise<Selection> {
  const matches = selectionMatcher(spec);
  const acc = new QueueSummaryAccumulator({ now: spec.selectedAt, topK: TOP_ENTRIES });
  const ids: string[] = [];
  const sample: SampleMessage[] = [];
  let scanned = 0;
  await streamQueueJson(target, (line) => {
    if (line.trim() === '') return;
    scanned++;
    let message: QueuedMessage;
    try {
      message = toQueuedMessage(JSON.parse(line));
    } catch {
      acc.addLine(line); // counted and sampled there as an invalid line
      return;
    }
    if (!matches(message)) return;
    ids.push(message.queueId);
    acc.addMessage(message);
    if (sample.length < SAMPLE_SIZE) sample.push(sampleOf(message, spec.selectedAt));
  });
  const { invalidSamples: _samples, ...summary } = acc.result();
  return {
    ids,
    evidence: {
      criteria: describeCriteria(spec),
      action: spec.action,
      selectedAt: spec.selectedAt,
      scanned,
      matched: ids.length,
      summary,
      sample,
    },
  };
}

function describeSelection(e: SelectionEvidence): string {
  if (e.matched === 0) return `no queued message matches ${e.criteria} (of ${e.scanned} queued)`;
  const domains = e.summary.recipientDomains.top.map((d) => `${d.key} ${d.count}`).join(', ');
  return `${e.matched} of ${e.scanned} queued messages match ${e.criteria} (to ${domains})`;
}

/**
 * Read only: the messages a request selects now. `selectedAt` omitted means "now"; the evidence carries
 * the time used, which the action step then receives so that it acts on the same selection.
 */
export async function selectQueuedMessages(
  targetName: string,
  request: Omit<SurgerySpec, 'selectedAt'> & { selectedAt?: number },
): Promise<StepOutcome<SelectionEvidence>> {
  const target = await targetConfig(targetName);
  const spec: SurgerySpec = { ...request, selectedAt: request.selectedAt ?? Math.floor(Date.now() / 1000) };
  const { evidence } = await select(target, spec);
  return outcome(true, describeSelection(evidence), evidence);
}

export interface SurgeryResult {
  action: SurgeryAction;
  approved: number;
  selected: number;
  /** What postsuper reported having changed. */
  changed: number;
  batches: number;
}

/** What each action did, as postsuper's totals name it (parsePostsuperTotals). */
const PAST = { hold: 'held', release: 'released', delete: 'deleted' } as const satisfies Record<
  SurgeryAction,
  string
>;

/**
 * Applies the approved action to the selection (criteria + the moment it was shown). Deleting more than
 * was approved is refused: if the selection grew (mail changed queue or reason since), nothing is deleted.
 * Exactly once per batch: each postsuper call runs under a host marker; a retried attempt waits for an
 * earlier attempt's batch still running, counts what the earlier batches changed (their recorded output)
 * and re-reads the queue, where the ids already held, released or gone no longer match, so only the rest
 * is acted on.
 */
export async function applyQueueSurgery(
  targetName: string,
  spec: SurgerySpec,
  approved: number,
  onceKey: string,
): Promise<StepOutcome<SurgeryResult>> {
  const target = await targetConfig(targetName);
  const on = await onMailServer(target);
  const { host, commands } = on;
  const prefix = markerPrefix(onceKey, 'postsuper');
  const earlier = await awaitEarlier(on, prefix, COMMAND_LIMIT_MS.postsuper);
  if (earlier.markers.some((m) => m.alive && m.exitCode === undefined)) {
    throw ApplicationFailure.retryable('a postsuper batch of an earlier attempt still runs', 'CommandFailed');
  }
  const result: SurgeryResult = { action: spec.action, approved, selected: 0, changed: 0, batches: 0 };
  for (const m of earlier.markers) {
    if (m.exitCode !== 0) continue;
    const shown = await runOk(host, () => commands.once.show(m.name, 1024 * 1024));
    const { stdout } = parseOnceShow(shown.stdout);
    result.changed += parsePostsuperTotals(`${stdout}\n${shown.stderr}`)[PAST[spec.action]];
    result.batches++;
  }
  const earlierBatches = result.batches;
  const { ids } = await select(target, spec);
  result.selected = ids.length;
  if (spec.action === 'delete' && ids.length > approved) {
    return outcome(
      false,
      `refused: ${ids.length} messages match now but ${approved} were approved for deletion; nothing deleted, start the runbook again to review the new selection`,
      result,
    );
  }
  const attempt = attemptNumber();
  for (let i = 0; i < ids.length; i += MAX_IDS_PER_POSTSUPER) {
    const batch = ids.slice(i, i + MAX_IDS_PER_POSTSUPER);
    const index = i / MAX_IDS_PER_POSTSUPER;
    const command = buildOrFail(() => commands.postsuper(spec.action, { ids: batch }));
    const r = await runMarked(on, `${prefix}.${attempt}-${index}`, command, { onceKey, batch: index });
    if (!r)
      throw ApplicationFailure.retryable(`postsuper batch ${index} was claimed already`, 'CommandFailed');
    result.changed += parsePostsuperTotals(`${r.stdout}\n${r.stderr}`)[PAST[spec.action]];
    result.batches++;
    beat({ progress: { done: i + batch.length, of: ids.length } });
  }
  // After earlier batches the totals include messages this attempt never selected: no "gone" count then.
  const gone = earlierBatches ? 0 : ids.length - result.changed;
  const earlierNote = earlierBatches
    ? `; ${earlierBatches} batches by an earlier attempt, whose messages were not selected again`
    : '';
  return outcome(
    true,
    `${PAST[spec.action]} ${result.changed} messages (postsuper ${spec.action}, ${result.batches} batches)${earlierNote}${gone > 0 ? `; ${gone} had already left the queue` : ''}`,
    result,
  );
}
