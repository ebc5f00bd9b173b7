/**
 * Queue summary throughput: the streaming accumulator (src/parsers/queue-summary.ts) against a naive
 * baseline measured in the same run (split the whole output, JSON.parse every line into an array, then
 * reduce with exact, unbounded maps), on 100k and 1M generated `postqueue -j` lines.
 *
 *   node --expose-gc --import tsx bench/queue-summary.ts            (sizes: BENCH_SIZES=100000,1000000)
 *
 * Prints lines/s, MB/s and peak heap growth (sampled heapUsed, garbage included) for both, and the
 * ratios streaming/baseline. Input generation is not timed; both read the same in-memory text.
 */
import { normaliseDelayReason } from '../src/parsers/delay-reason.js';
import { toQueuedMessage, type QueuedMessage } from '../src/parsers/postqueue-json.js';
import { QueueSummaryAccumulator, recipientDomain } from '../src/parsers/queue-summary.js';
import { syntheticQueueLines } from '../test/fixtures/synthetic-queue.js';

const NOW = 1_795_320_000;
const sizes = (process.env.BENCH_SIZES ?? '100000,1000000').split(',').map(Number);
const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  return process.memoryUsage().heapUsed;
}

function settle(): number {
  gc?.();
  return heap();
}

interface Measure {
  seconds: number;
  peakHeapBytes: number;
  resultBytes: number;
}

function streaming(text: string): Measure {
  const before = settle();
  let peak = 0;
  const started = performance.now();
  // What the activity does with the transport's onStdoutLine: one line at a time, nothing kept.
  const acc = new QueueSummaryAccumulator({ now: NOW });
  let start = 0;
  for (let i = 0; start < text.length; i++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    acc.addLine(text.slice(start, end));
    start = end + 1;
    if (i % 20_000 === 0) peak = Math.max(peak, heap() - before);
  }
  const summary = acc.result();
  const seconds = (performance.now() - started) / 1000;
  return {
    seconds,
    peakHeapBytes: Math.max(peak, heap() - before),
    resultBytes: Buffer.byteLength(JSON.stringify(summary)),
  };
}

function countInto(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function topK(map: Map<string, number>, k: number): { key: string; count: number }[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([key, count]) => ({ key, count }));
}

function baseline(text: string): Measure {
  const before = settle();
  const started = performance.now();
  const messages: QueuedMessage[] = text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => toQueuedMessage(JSON.parse(l)));
  const peak = heap() - before;
  const byQueue = new Map<string, number>();
  const domains = new Map<string, number>();
  const senders = new Map<string, number>();
  const reasons = new Map<string, number>();
  let bytes = 0;
  for (const m of messages) {
    countInto(byQueue, m.queueName);
    countInto(senders, m.sender);
    bytes += m.messageSize;
    for (const r of m.recipients) {
      countInto(domains, recipientDomain(r.address));
      if (r.delayReason !== undefined) countInto(reasons, normaliseDelayReason(r.delayReason));
    }
  }
  const summary = {
    messages: messages.length,
    bytes,
    byQueue: Object.fromEntries(byQueue),
    domains: topK(domains, 20),
    senders: topK(senders, 20),
    reasons: topK(reasons, 20),
  };
  const seconds = (performance.now() - started) / 1000;
  return {
    seconds,
    peakHeapBytes: Math.max(peak, heap() - before),
    resultBytes: Buffer.byteLength(JSON.stringify(summary)),
  };
}

const mb = (n: number): string => (n / 1e6).toFixed(1);

console.log(`node ${process.version}, gc ${gc ? 'exposed' : 'not exposed (heap figures are rough)'}`);
for (const n of sizes) {
  const text = [...syntheticQueueLines({ count: n, now: NOW })].join('\n');
  const megabytes = Buffer.byteLength(text) / 1e6;
  // Warm-up on a slice so both paths are compiled before timing.
  streaming(text.slice(0, 2_000_000).replace(/\n[^\n]*$/, ''));
  baseline(text.slice(0, 2_000_000).replace(/\n[^\n]*$/, ''));
  const s = streaming(text);
  const b = baseline(text);
  const row = (name: string, m: Measure): string =>
    `  ${name.padEnd(9)} ${Math.round(n / m.seconds)
      .toLocaleString('en')
      .padStart(11)} lines/s ${(megabytes / m.seconds).toFixed(1).padStart(7)} MB/s  ` +
    `${m.seconds.toFixed(2)} s  peak heap +${mb(m.peakHeapBytes)} MB  result ${m.resultBytes} B`;
  console.log(`${n.toLocaleString('en')} lines, ${megabytes.toFixed(1)} MB of postqueue -j`);
  console.log(row('streaming', s));
  console.log(row('baseline', b));
  console.log(
    `  ratio streaming/baseline: throughput x${(b.seconds / s.seconds).toFixed(2)}, ` +
      `peak heap x${(s.peakHeapBytes / Math.max(1, b.peakHeapBytes)).toFixed(3)}`,
  );
}
