// The queue summary's memory as a worker pays for it (bench/queue-floor.ts starts this file in a process
// of its own): loads the activity, runs it once against the bench container (MRB_CONFIG) and prints its
// RSS before the activity and its peak RSS (getrusage's maxRSS, the whole process's) as one JSON line.
// BENCH_MODULES=dist loads the compiled build under plain node, which is what an installed worker runs
// (bin/load-entry.js: the package ships dist/ and no tsx; deploy/Dockerfile and the systemd units run
// it); BENCH_MODULES=src loads the TypeScript sources (run under `node --import tsx`, as a checkout does).
// Plain JavaScript, so the dist/ figure carries no TypeScript loader.
import console from 'node:console';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const root = process.env.BENCH_MODULES === 'src' ? '../src' : '../dist';
const ext = root === '../src' ? 'ts' : 'js';
const { closeAllHosts, targetConfig } = await import(`${root}/activities/context.${ext}`);
const { queueSummary } = await import(`${root}/activities/queue.${ext}`);

// The activity called directly (outside an activity context it sends no heartbeats): a mock activity
// environment would load the Temporal test kit, which no worker carries.
await targetConfig('bench');
const rssBefore = process.memoryUsage().rss;
const started = performance.now();
const result = await queueSummary('bench');
const seconds = (performance.now() - started) / 1000;
await closeAllHosts();
console.log(
  JSON.stringify({
    rssBeforeMb: rssBefore / 2 ** 20,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    seconds,
    messages: result.evidence.messages,
  }),
);
process.exit(0); // nothing may keep the child alive (an engine socket, a timer)
