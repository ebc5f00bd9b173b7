/**
 * Queue summary at lab scale: fills the lab mail server's queue with N deferred messages (the lab's
 * `queue-flood N` fault, default 100000), then runs the real `queueSummary` activity (postqueue -j streamed
 * through docker exec into the accumulator) and prints its time, throughput and result size, against a
 * baseline measured in the same run on the same queue: `postqueue -j` alone, its output discarded
 * (the cost of listing the queue, which no summary can avoid). Heals the fault at the end.
 *
 *   npx tsx bench/queue-summary-lab.ts            (BENCH_QUEUE=100000; needs the lab: npm run lab -- up)
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { queueSummary } from '../src/activities/queue.js';
import { closeAllHosts } from '../src/activities/context.js';
import { dexec } from '../src/lab/docker.js';
import { findFault, healFault, injectFault } from '../src/lab/faults.js';
import { labContext, labUp } from '../src/lab/lab.js';
import { CONTAINERS } from '../src/lab/settings.js';

const N = Number(process.env.BENCH_QUEUE ?? '100000');
const ctx = labContext();

async function main(): Promise<void> {
  const up = await labUp(ctx);
  process.env.MRB_CONFIG = up.config;
  const flood = findFault('queue-flood');
  await healFault(ctx, flood);
  let t = performance.now();
  console.log(
    `queue-flood ${N}: ${await injectFault(ctx, flood, [String(N)])} (${((performance.now() - t) / 1000).toFixed(1)} s)`,
  );
  try {
    t = performance.now();
    const listing = await dexec(ctx.docker, CONTAINERS.mailserver, ['sh', '-c', 'postqueue -j | wc -lc'], {
      timeoutMs: 600_000,
    });
    const baselineSeconds = (performance.now() - t) / 1000;
    const [lines = 0, bytes = 0] = listing.stdout.trim().split(/\s+/).map(Number);

    const env = new MockActivityEnvironment();
    t = performance.now();
    const result = await env.run<[string], Awaited<ReturnType<typeof queueSummary>>, typeof queueSummary>(
      queueSummary,
      'lab',
    );
    const seconds = (performance.now() - t) / 1000;
    const resultBytes = Buffer.byteLength(JSON.stringify(result));
    const s = result.evidence;

    console.log(`queue: ${lines} messages, ${(bytes / 1e6).toFixed(1)} MB of postqueue -j output`);
    console.log(`baseline (postqueue -j | wc in the container): ${baselineSeconds.toFixed(2)} s`);
    console.log(
      `queueSummary activity: ${seconds.toFixed(2)} s, ${Math.round(s.messages / seconds)} messages/s, ratio to baseline ${(seconds / baselineSeconds).toFixed(2)}x`,
    );
    console.log(
      `result: ${resultBytes} bytes of JSON (limit 65536): ${resultBytes < 65_536 ? 'OK' : 'TOO BIG'}`,
    );
    console.log(`summary: ${result.summary}`);
    console.log(
      `top domains: ${s.recipientDomains.top.map((e) => `${e.key}=${e.count}`).join(', ')}; age buckets: ${s.ageBuckets.join(' ')}`,
    );
    if (s.messages < N) throw new Error(`summary counted ${s.messages} messages, expected at least ${N}`);
    if (resultBytes >= 65_536) throw new Error('result over 64 KB');
  } finally {
    t = performance.now();
    console.log(`heal: ${await healFault(ctx, flood)} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    await closeAllHosts();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
