/** The Postfix queue: a streamed summary at any size, flush, requeue, and waiting for it to drain. */
import { COMMAND_LIMIT_MS, queueListLimitMs, type MailServerCommands } from '../commands/index.js';
import type { Target } from '../config/schema.js';
import { parseQueueFileCount, QueueSummaryAccumulator, type QueueSummary } from '../parsers/index.js';
import type { StepOutcome } from '../shared/types.js';
import { TransportError } from '../transports/index.js';
import { onMailServer, targetConfig, type OnHost } from './context.js';
import { beat } from './heartbeat.js';
import { commandOnce, type CommandOutcome } from './once.js';
import { outcome } from './outcome.js';
import { asFailure, runOk } from './run.js';
import { pollUntil } from './wait.js';

const TOP_ENTRIES = 10;

/**
 * Streams `postqueue -j` line by line, so memory stays bounded whatever the queue size. The host gathers
 * the listing into large blocks (see queueJson), which is what keeps the transport near the cost of
 * postqueue itself. The queue files are counted beside the listing (directory reads only), and once the
 * count is in, the listing is stopped at the limit that count allows (queueListLimitMs: a million
 * messages get minutes, a small queue the base limit); a failed count leaves the base limit. Meanwhile
 * the activity heartbeats with the count and the lines read, and a cancellation stops the listing.
 */
export async function streamQueueJson(target: Target, onLine: (line: string) => void): Promise<void> {
  const on = await onMailServer(target);
  const began = performance.now();
  const sized = new AbortController();
  let listed = false;
  let deadline: NodeJS.Timeout | undefined;
  const stopAt = (limitMs: number, why: string): void => {
    if (listed) return;
    deadline = setTimeout(
      () =>
        sized.abort(
          new TransportError('timeout', `the queue listing on ${on.host.description} ran past ${why}`),
        ),
      Math.max(0, limitMs - (performance.now() - began)),
    );
  };
  const counted = countQueuedOn(on).then(
    (queued) => {
      beat({ queueFiles: queued });
      const limitMs = queueListLimitMs(queued);
      stopAt(limitMs, `its ${limitMs} ms limit for ${queued} queued messages`);
    },
    () => stopAt(COMMAND_LIMIT_MS.queueList, `its ${COMMAND_LIMIT_MS.queueList} ms limit (no queue count)`),
  );
  let lines = 0;
  try {
    await runOk(on.host, () => on.commands.queueJson(), {
      onStdoutLine: (line) => {
        onLine(line);
        // Big queues take a while to list: show how far it got.
        if (++lines % 20_000 === 0) beat({ queueLinesRead: lines });
      },
      signal: sized.signal,
    });
  } finally {
    listed = true;
    clearTimeout(deadline);
  }
  await counted;
}

async function countQueuedOn({ host, commands }: OnHost<MailServerCommands>): Promise<number> {
  const r = await runOk(host, () => commands.queueFileCount());
  try {
    return parseQueueFileCount(r.stdout);
  } catch (err) {
    throw asFailure(err, `queue file count on ${host.description}`);
  }
}

async function summarise(targetName: string): Promise<{ summary: QueueSummary; threshold: number }> {
  const target = await targetConfig(targetName);
  const acc = new QueueSummaryAccumulator({ now: Math.floor(Date.now() / 1000), topK: TOP_ENTRIES });
  await streamQueueJson(target, (line) => acc.addLine(line));
  return { summary: acc.result(), threshold: target.thresholds.queueDrainBelow };
}

function describe(s: QueueSummary): string {
  if (s.messages === 0) return 'queue is empty';
  const q = s.byQueue;
  const reason = s.deferralReasons.top[0];
  return [
    `${s.messages} queued (${q.deferred.messages} deferred, ${q.active.messages} active, ${q.hold.messages} on hold)`,
    s.oldest && `oldest ${Math.round(s.oldest.ageSeconds / 60)} min`,
    reason && `top reason: ${reason.key} (${reason.count})`,
  ]
    .filter(Boolean)
    .join(', ');
}

/** Queue summary; ok = fewer messages than the target's queueDrainBelow threshold. */
export async function queueSummary(targetName: string): Promise<StepOutcome<QueueSummary>> {
  const { summary, threshold } = await summarise(targetName);
  const ok = summary.messages < threshold;
  return outcome(ok, `${describe(summary)}${ok ? '' : ` (backlog: threshold ${threshold})`}`, summary);
}

/** `postqueue -f`: retry every deferred message now. */
export async function flushQueue(targetName: string, onceKey: string): Promise<CommandOutcome> {
  return commandOnce(
    onceKey,
    await onMailServer(targetName),
    (commands) => commands.flushQueue(),
    () => 'asked Postfix to retry all queued mail now (postqueue -f)',
  );
}

/** `postsuper -r ALL deferred`: requeue so deferred mail goes through cleanup (and the content filter) again. */
export async function requeueDeferred(targetName: string, onceKey: string): Promise<CommandOutcome> {
  return commandOnce(
    onceKey,
    await onMailServer(targetName),
    (commands) => commands.postsuper('requeue', { all: true, queue: 'deferred' }),
    (output) => `requeued deferred mail (postsuper -r ALL deferred)${output ? `: ${output}` : ''}`,
  );
}

export interface DrainEvidence {
  threshold: number;
  start: number;
  end: number;
  waitedSeconds: number;
  summary: QueueSummary;
}

/** How many messages are queued, from the queue directory alone (no queue file read). */
async function countQueued(targetName: string): Promise<number> {
  return countQueuedOn(await onMailServer(targetName));
}

/**
 * Polls the queue until it is below the threshold or drainTimeoutSeconds passes. Each round only counts
 * the queue files (a few % of a full listing on a large backlog); the evidence's summary is taken once,
 * at the end, when the queue is usually small.
 */
export async function waitQueueDrained(targetName: string): Promise<StepOutcome<DrainEvidence>> {
  const target = await targetConfig(targetName);
  const { drainTimeoutSeconds, queueDrainBelow } = target.thresholds;
  let start: number | undefined;
  const polled = await pollUntil(
    drainTimeoutSeconds,
    5_000,
    async () => {
      const count = await countQueued(targetName);
      start ??= count;
      return count;
    },
    (count) => count < queueDrainBelow,
  );
  const end = polled.last;
  const { summary: s } = await summarise(targetName);
  const waitedSeconds = Math.round(polled.waitedMs / 1000);
  const evidence = {
    threshold: queueDrainBelow,
    start: start ?? end,
    end,
    waitedSeconds,
    summary: s,
  };
  return polled.done
    ? outcome(true, `queue drained from ${evidence.start} to ${end} in ${waitedSeconds} s`, evidence)
    : outcome(
        false,
        `queue did not drain below ${queueDrainBelow} within ${drainTimeoutSeconds} s: ${describe(s)}`,
        evidence,
      );
}
