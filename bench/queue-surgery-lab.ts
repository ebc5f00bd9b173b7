/**
 * Queue surgery at lab scale: N deferred messages from the lab's flood sender (the `queue-flood N` fault,
 * default 100000; the relay is stopped meanwhile so nothing drains), then a hold of exactly those
 * messages two ways, measured in the same run on the same queue:
 *   baseline: what an administrator types in the container, one pipeline
 *             `postqueue -j | grep <sender> | sed <queue id> | postsuper -h -`;
 *   ours:     the queueSurgery activities, selectQueuedMessages (postqueue -j streamed through docker exec
 *             into the matcher, evidence for the approver) + applyQueueSurgery (postsuper -h - with up to
 *             5,000 ids a call on its standard input, each call a docker exec, with progress heartbeats).
 * Between the two, everything held is released again (not timed). Heals both faults at the end.
 *
 *   npx tsx bench/queue-surgery-lab.ts            (BENCH_QUEUE=100000; needs the lab: npm run lab -- up)
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { closeAllHosts } from '../src/activities/context.js';
import { applyQueueSurgery, selectQueuedMessages } from '../src/activities/queue-surgery.js';
import { dexec } from '../src/lab/docker.js';
import { findFault, healFault, injectFault } from '../src/lab/faults.js';
import { labContext, labUp } from '../src/lab/lab.js';
import { CONTAINERS, NAMES } from '../src/lab/settings.js';

const N = Number(process.env.BENCH_QUEUE ?? '100000');
const ctx = labContext();
const seconds = (t: number): number => (performance.now() - t) / 1000;

async function inMail(script: string): Promise<string> {
  const r = await dexec(ctx.docker, CONTAINERS.mailserver, ['sh', '-c', script], { timeoutMs: 900_000 });
  if (r.exitCode !== 0) throw new Error(`${script}: exit ${r.exitCode}: ${r.stderr.slice(-500)}`);
  return r.stdout.trim();
}

const countHeld = (): Promise<string> =>
  inMail(
    `postqueue -j | grep -F '"queue_name": "hold"' | grep -cF '"sender": "${NAMES.floodSender}"' || true`,
  );

async function main(): Promise<void> {
  const up = await labUp(ctx);
  process.env.MRB_CONFIG = up.config;
  const flood = findFault('queue-flood');
  const relayDown = findFault('relay-down');
  await healFault(ctx, flood);
  await injectFault(ctx, relayDown);
  let t = performance.now();
  console.log(`queue-flood ${N}: ${await injectFault(ctx, flood, [String(N)])} (${seconds(t).toFixed(1)} s)`);
  try {
    t = performance.now();
    await inMail(
      `postqueue -j | grep -F '"sender": "${NAMES.floodSender}"' | sed -n 's/.*"queue_id": "\\([0-9A-Za-z]*\\)".*/\\1/p' | postsuper -h - 2>/dev/null`,
    );
    const baseline = seconds(t);
    const heldByBaseline = await countHeld();
    await inMail('postsuper -H ALL hold 2>/dev/null');

    const env = new MockActivityEnvironment();
    t = performance.now();
    const request = { sender: NAMES.floodSender, action: 'hold' as const, dryRun: false };
    const selected: Awaited<ReturnType<typeof selectQueuedMessages>> = await env.run(
      selectQueuedMessages,
      'lab',
      request,
    );
    const selectSeconds = seconds(t);
    const t2 = performance.now();
    const spec = { ...request, selectedAt: selected.evidence.selectedAt };
    const applied: Awaited<ReturnType<typeof applyQueueSurgery>> = await env.run(
      applyQueueSurgery,
      'lab',
      spec,
      selected.evidence.matched,
      'bench',
    );
    const applySeconds = seconds(t2);
    const ours = seconds(t);
    const heldByOurs = await countHeld();

    console.log(
      `baseline (one pipeline in the container): held ${heldByBaseline} in ${baseline.toFixed(2)} s`,
    );
    console.log(
      `queueSurgery: select ${selected.evidence.matched} of ${selected.evidence.scanned} in ${selectSeconds.toFixed(2)} s ` +
        `(evidence ${JSON.stringify(selected.evidence).length} chars), hold in ${applySeconds.toFixed(2)} s ` +
        `(${applied.evidence.batches} batches): ${applied.summary}`,
    );
    console.log(
      `queueSurgery total ${ours.toFixed(2)} s, ${Math.round(Number(heldByOurs) / ours)} messages/s, ratio to baseline ${(ours / baseline).toFixed(2)}x; held now: ${heldByOurs}`,
    );
    if (Number(heldByOurs) !== N) throw new Error(`expected ${N} held, found ${heldByOurs}`);
  } finally {
    t = performance.now();
    console.log(`heal: ${await healFault(ctx, flood)} (${seconds(t).toFixed(1)} s)`);
    await healFault(ctx, relayDown);
    await closeAllHosts();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
