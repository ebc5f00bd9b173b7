/**
 * The receiver under test, alone in its own process so that its latency and memory are its own:
 * started by bench/receiver-storm.ts, connected to the bench's Temporal, routes `StormAlert` for targets
 * storm-shipped, storm-baseline and t0..t{BENCH_TARGETS-1} to relayUnresponsive. BENCH_REMEMBER=0 turns off the open-run memory (the
 * baseline: every repeat asks Temporal). Prints one JSON line with its URL, then serves until killed.
 */
import { Client, Connection } from '@temporalio/client';
import { temporalDispatcher } from '../src/alerts/dispatch.js';
import { startReceiver } from '../src/alerts/receiver.js';

const address = process.env.BENCH_TEMPORAL ?? '';
const targets = Number(process.env.BENCH_TARGETS ?? '1000');
const connection = await Connection.connect({ address });
const client = new Client({ connection });
const receiver = await startReceiver({
  host: '127.0.0.1',
  port: 0,
  auth: { bearerToken: process.env.BENCH_TOKEN ?? '' },
  routing: {
    defaultTarget: 't0',
    targets: new Set([
      'storm-shipped',
      'storm-baseline',
      ...Array.from({ length: targets }, (_, i) => `t${i}`),
    ]),
    routes: [{ match: { alertname: 'StormAlert' }, runbook: 'relayUnresponsive', targetLabel: 'target' }],
  },
  dispatcher: temporalDispatcher(client, {
    taskQueue: process.env.BENCH_TASK_QUEUE ?? 'receiver-storm',
    rememberOpenRuns: process.env.BENCH_REMEMBER !== '0',
  }),
  log: () => {},
});
console.log(JSON.stringify({ url: receiver.url }));
const stop = (): void =>
  void receiver
    .close()
    .then(() => connection.close())
    .then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
