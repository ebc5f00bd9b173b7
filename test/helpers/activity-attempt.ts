/**
 * One attempt of an activity outside a worker, with the attempt number a Temporal retry would give it
 * (MockActivityEnvironment supplies the activity context: attempt, heartbeats). In-process with
 * `runActivityAttempt`, or in a process of its own with `spawnActivityAttempt`, which a test SIGKILLs
 * mid-command as a crash of the worker would (node --import tsx test/helpers/activity-attempt.ts ...).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MockActivityEnvironment } from '@temporalio/testing';
import * as activities from '../../src/activities/index.js';
import { closeAllHosts } from '../../src/activities/context.js';

type ActivityName = keyof typeof activities;

export async function runActivityAttempt(
  name: ActivityName,
  attempt: number,
  args: unknown[],
): Promise<unknown> {
  const env = new MockActivityEnvironment({ attempt, activityType: name });
  const fn = activities[name] as (...a: unknown[]) => Promise<unknown>;
  return env.run(fn, ...args);
}

/** The same in a child process (its env must name the config: MRB_CONFIG). Output: the result as JSON. */
export function spawnActivityAttempt(
  name: ActivityName,
  attempt: number,
  args: unknown[],
  env: Record<string, string>,
): { child: ChildProcess; output: () => string } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), name, String(attempt), JSON.stringify(args)],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return { child, output: () => output };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [name, attempt, args] = process.argv.slice(2);
  runActivityAttempt(name as ActivityName, Number(attempt), JSON.parse(args ?? '[]') as unknown[])
    .then(async (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      await closeAllHosts();
      process.exit(0);
    })
    .catch((err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    });
}
