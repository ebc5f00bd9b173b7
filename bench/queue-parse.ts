/**
 * The queue summary's parsing alone (no transport): `postqueue -j` bytes, in 1 MiB chunks as the
 * coalesced listing arrives, through the line splitter into the accumulator. Separates the stages so a
 * profile (node --cpu-prof) or the printed rates show where the time goes:
 *   - split:   LineSplitter only (bytes to line strings);
 *   - json:    split + JSON.parse per line (what a generic parser cannot avoid);
 *   - summary: split + QueueSummaryAccumulator.addLine (what the activity does per chunk).
 * Input: BENCH_INPUT=<file of postqueue -j output> (e.g. recorded from the bench container), or
 * BENCH_LINES synthetic lines (default 100000; test/fixtures/synthetic-queue.ts). Median of BENCH_ROUNDS (5)
 * of the process's CPU time (user + system), which a loaded shared machine distorts far less than wall time.
 *
 *   npm run bench -- queue-parse
 */
import { readFileSync } from 'node:fs';
import { QueueSummaryAccumulator } from '../src/parsers/queue-summary.js';
import { LineSplitter } from '../src/transports/lines.js';
import { syntheticQueueLines } from '../test/fixtures/synthetic-queue.js';

const NOW = 1_795_320_000;
const CHUNK = 1024 * 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '5');

function input(): Buffer {
  const file = process.env.BENCH_INPUT;
  if (file) return readFileSync(file);
  const count = Number(process.env.BENCH_LINES ?? '100000');
  return Buffer.from(`${[...syntheticQueueLines({ count, now: NOW })].join('\n')}\n`);
}

function feed(bytes: Buffer, onLine: (line: string) => void): void {
  const splitter = new LineSplitter(onLine);
  for (let at = 0; at < bytes.length; at += CHUNK) splitter.push(bytes.subarray(at, at + CHUNK));
  splitter.end();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const bytes = input();
let lines = 0;
feed(bytes, () => lines++);
const stages: Record<string, () => void> = {
  split: () => feed(bytes, () => undefined),
  json: () => feed(bytes, (line) => void (line === '' || JSON.parse(line))),
  summary: () => {
    const acc = new QueueSummaryAccumulator({ now: NOW, topK: 10 });
    feed(bytes, (line) => acc.addLine(line));
    if (acc.result().messages + acc.result().invalidLines === 0) throw new Error('nothing parsed');
  },
};
const only = process.env.BENCH_STAGE;
console.log(`${lines.toLocaleString('en')} lines, ${(bytes.length / 2 ** 20).toFixed(1)} MiB`);
for (const [name, run] of Object.entries(stages)) {
  if (only && only !== name) continue;
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t = process.cpuUsage();
    run();
    const used = process.cpuUsage(t);
    times.push((used.user + used.system) / 1e6);
  }
  const s = median(times);
  console.log(
    `  ${name.padEnd(8)} ${s.toFixed(3)} s CPU  ${Math.round(lines / s).toLocaleString('en')} lines/s  [${times.map((x) => x.toFixed(3)).join(' ')}]`,
  );
}
