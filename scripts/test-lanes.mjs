#!/usr/bin/env node
/**
 * `npm test` but the history replay (which reads what these record), in two lanes at once:
 *   lab    the integration files that use the shared lab, one at a time (vitest project integration-lab),
 *          then the Web UI test (it injects a lab fault too);
 *   local  lint, the type check, the unit tests, the workflows project (no Docker) and the integration files
 *          with parts of their own (integration-local, test/integration/lanes.ts), one after the other.
 * On 2 cores the lab lane mostly waits for mail to move, so the local lane runs in its idle time instead of
 * before and after it. Every line is prefixed with its lane. Both lanes run to their end; a summary names each
 * command's exit code and time, and the exit code is non-zero when any failed.
 *
 *   MRB_TEST_LANES=serial   the same commands one after the other (lab lane first)
 *   MRB_TEST_LANES_MINUTES  the bound on the whole (default 75): past it every lane is stopped, and it fails
 */
import { spawn } from 'node:child_process';
import console from 'node:console';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const VITEST = join(ROOT, 'node_modules', '.bin', 'vitest');
const vitest = (project) => ({
  label: `vitest run --project ${project}`,
  file: VITEST,
  args: ['run', '--project', project],
});
// Under npm (npm test), the npm that runs this; else the one on PATH.
const npm = (script) =>
  process.env.npm_execpath
    ? {
        label: `npm run ${script}`,
        file: process.execPath,
        args: [process.env.npm_execpath, 'run', '--silent', script],
      }
    : { label: `npm run ${script}`, file: 'npm', args: ['run', '--silent', script] };

const LANES = [
  { name: 'lab', commands: [vitest('integration-lab'), vitest('ui')] },
  {
    name: 'local',
    commands: [
      npm('lint'),
      npm('typecheck'),
      vitest('unit'),
      vitest('workflows'),
      vitest('integration-local'),
    ],
  },
];

const serial = process.env.MRB_TEST_LANES === 'serial';
const boundMs = Number(process.env.MRB_TEST_LANES_MINUTES ?? '75') * 60_000;
const running = new Set();
const results = [];
/** Why the lanes were stopped (the bound, or a signal): no command starts after it. */
let stopped;

/** Writes each complete line of `stream` to `out`, prefixed. */
function prefixLines(stream, out, prefix) {
  let pending = '';
  stream.on('data', (chunk) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) out.write(`${prefix}${line}\n`);
  });
  stream.on('end', () => pending && out.write(`${prefix}${pending}\n`));
}

function runCommand(lane, { label, file, args }) {
  const prefix = serial ? '' : `[${lane}] `;
  const started = Date.now();
  console.log(`${prefix}== ${label}`);
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    prefixLines(child.stdout, process.stdout, prefix);
    prefixLines(child.stderr, process.stderr, prefix);
    let settled = false;
    const settle = (code) => {
      if (settled) return;
      settled = true;
      running.delete(child);
      const result = { lane, label, code, seconds: (Date.now() - started) / 1000 };
      results.push(result);
      resolve(result);
    };
    child.on('error', (err) => {
      console.error(`${prefix}${label} did not start: ${err.message}`);
      settle(`not started (${err.message})`);
    });
    child.on('close', (code, signal) => settle(code ?? `signal ${signal ?? '?'}`));
  });
}

async function runLane(lane) {
  for (const command of lane.commands) {
    if (stopped) return;
    await runCommand(lane.name, command);
  }
}

function stopAll(signal) {
  for (const child of running) child.kill(signal);
}

const bound = setTimeout(() => {
  stopped = `still running after ${boundMs / 60_000} min (MRB_TEST_LANES_MINUTES)`;
  console.error(`test lanes: ${stopped}: stopping them`);
  stopAll('SIGTERM');
  setTimeout(() => stopAll('SIGKILL'), 30_000).unref();
}, boundMs);
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => {
    stopped = `stopped by ${signal}`;
    stopAll(signal);
  });

const t0 = Date.now();
if (serial) for (const lane of LANES) await runLane(lane);
else await Promise.all(LANES.map(runLane));
clearTimeout(bound);

console.log(
  `\ntest lanes (${serial ? 'one after the other' : 'at once'}): ${((Date.now() - t0) / 1000).toFixed(0)} s`,
);
for (const r of results)
  console.log(
    `  ${r.code === 0 ? 'ok    ' : 'FAILED'} [${r.lane}] ${r.label}: exit ${r.code}, ${r.seconds.toFixed(0)} s`,
  );
if (stopped) console.log(`  ${stopped}: the commands not listed did not run`);
const failed = stopped !== undefined || results.some((r) => r.code !== 0);
process.exit(failed ? 1 : 0);
