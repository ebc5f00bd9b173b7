/**
 * The chaos worker: the real worker (src/worker.ts's createWorker, every runbook and activity) that kills
 * itself with SIGKILL at one chosen point, as a crash or an OOM kill would. Test code only. Where, from the
 * environment (unset: a plain worker):
 *
 * - MRB_CHAOS_KILL=<activityType>:<point>, point one of
 *   - `boundary`: a step boundary: as the workflow schedules the activity, after the previous step's result
 *     reached it and before the schedule reaches the server (workflow-interceptors.ts; the workflow task is
 *     retried after its 10 s timeout);
 *   - `start`: as the activity starts, before it does anything (retried only after the activity's
 *     start-to-close timeout, minutes for a check; kept for that case, the matrix uses `boundary`);
 *   - `before`: just before the action's command is sent to the host;
 *   - `during`: MRB_CHAOS_DURING_MS (default 200) after the command was sent, while it runs on the host
 *     (when it ends sooner: as soon as it ended, before its result is used);
 *   - `after`: just after the command returned, before the activity records or reports anything;
 *   - `pause`: no kill; just before the command the worker writes `paused` into MRB_CHAOS_DIR and waits
 *     (bounded) for a `go` file there, so the harness can kill the Temporal server in the middle of an action.
 * - MRB_CHAOS_OCCURRENCE=<n>: the n-th execution (for `boundary`: schedule) of that activity type in this
 *   worker (default 1).
 * - MRB_CHAOS_COMMAND=<regex>: which command of the activity (matched against its argv joined by spaces);
 *   unset, before/during/after apply to the activity as a whole (actions that use no host command, e.g.
 *   a container start through the Docker engine API).
 */
import { writeFileSync, writeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import type { ActivityInboundCallsInterceptor, InjectedSinks } from '@temporalio/worker';
import { wrapHostTransportsForTests } from '../../src/activities/context.js';
import { RUNBOOK_NAMES } from '../../src/shared/runbooks.js';
import { connectWorker, TASK_QUEUE, temporalTarget } from '../../src/temporal/connection.js';
import type { ExecRequest, ExecResult, HostTransport } from '../../src/transports/index.js';
import { createWorker } from '../../src/worker.js';
import { CHAOS_WORKFLOW_INTERCEPTORS } from './paths.js';
import type { ChaosSinks } from './workflow-interceptors.js';

export const CHAOS_POINTS = ['boundary', 'start', 'before', 'during', 'after', 'pause'] as const;
export type ChaosPoint = (typeof CHAOS_POINTS)[number];

interface Plan {
  activityType: string;
  point: ChaosPoint;
  occurrence: number;
  command?: RegExp;
  duringMs: number;
  dir?: string;
}

function planFromEnv(env: NodeJS.ProcessEnv): Plan | undefined {
  const spec = env.MRB_CHAOS_KILL;
  if (!spec) return undefined;
  const [activityType, point] = spec.split(':');
  if (!activityType || !CHAOS_POINTS.includes(point as ChaosPoint)) {
    throw new Error(`MRB_CHAOS_KILL must be <activityType>:<${CHAOS_POINTS.join('|')}>, not '${spec}'`);
  }
  return {
    activityType,
    point: point as ChaosPoint,
    occurrence: Number(env.MRB_CHAOS_OCCURRENCE ?? '1'),
    ...(env.MRB_CHAOS_COMMAND ? { command: new RegExp(env.MRB_CHAOS_COMMAND) } : {}),
    duringMs: Number(env.MRB_CHAOS_DURING_MS ?? '200'),
    ...(env.MRB_CHAOS_DIR ? { dir: env.MRB_CHAOS_DIR } : {}),
  };
}

const plan = planFromEnv(process.env);
let seen = 0; // executions of plan.activityType so far
let armed = true; // the chosen execution is running and its kill has not fired yet

function kill(where: string): never {
  writeSync(2, `chaos: SIGKILL ${where}\n`);
  if (plan?.dir) writeFileSync(join(plan.dir, 'killed'), `${where}\n`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL sent to self');
}

/** Waits (bounded) for the harness's `go` after telling it the action is about to send its command. */
async function pause(where: string): Promise<void> {
  if (!plan?.dir) throw new Error('MRB_CHAOS_DIR is required for the pause point');
  writeFileSync(join(plan.dir, 'paused'), `${where}\n`);
  writeSync(2, `chaos: paused ${where}\n`);
  const deadline = Date.now() + 300_000;
  while (!existsSync(join(plan.dir, 'go')) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    Context.current().heartbeat(); // throttled by the SDK; keeps the action alive while we wait
  }
  writeSync(2, `chaos: resumed ${where}\n`);
}

/** Around one piece of work (a host command, or the whole activity): the before/during/after/pause points. */
async function around<T>(where: string, work: () => Promise<T>): Promise<T> {
  if (!plan || !armed) return work();
  armed = false;
  switch (plan.point) {
    case 'before':
      return kill(`before ${where}`);
    case 'pause':
      await pause(where);
      return work();
    case 'during': {
      const timer = setTimeout(() => kill(`during ${where} (${plan.duringMs} ms in)`), plan.duringMs);
      try {
        await work();
      } finally {
        clearTimeout(timer);
      }
      return kill(`during ${where} (it ended within ${plan.duringMs} ms)`);
    }
    case 'after':
      await work();
      return kill(`after ${where}`);
    case 'boundary':
    case 'start':
      return work();
  }
}

function currentActivityType(): string | undefined {
  try {
    return Context.current().info.activityType;
  } catch {
    return undefined;
  }
}

function chaosTransport(inner: HostTransport): HostTransport {
  return {
    description: inner.description,
    close: () => inner.close(),
    exec(request: ExecRequest): Promise<ExecResult> {
      const chosen =
        plan?.command &&
        armed &&
        seen === plan.occurrence &&
        currentActivityType() === plan.activityType &&
        plan.command.test(request.argv.join(' '));
      if (!chosen) return inner.exec(request);
      return around(`command '${request.argv.join(' ').slice(0, 80)}' of ${plan.activityType}`, () =>
        inner.exec(request),
      );
    },
  };
}

let scheduled = 0; // schedules of plan.activityType by workflows on this worker (not counting replays)

/** The `boundary` point: main thread, called as the workflow schedules an activity (workflow-interceptors.ts). */
const chaosSinks: InjectedSinks<ChaosSinks> = {
  chaos: {
    scheduling: {
      fn(_info, activityType) {
        if (plan?.point !== 'boundary' || activityType !== plan.activityType) return;
        scheduled += 1;
        if (scheduled === plan.occurrence) kill(`at the step boundary before ${activityType} #${scheduled}`);
      },
    },
  },
};

const chaosActivities: ActivityInboundCallsInterceptor = {
  async execute(input, next) {
    if (!plan || plan.point === 'boundary' || currentActivityType() !== plan.activityType) {
      return next(input);
    }
    seen += 1;
    if (seen !== plan.occurrence) return next(input);
    const where = `${plan.activityType} #${seen}`;
    if (plan.point === 'start') kill(`at the start of ${where}`);
    if (plan.command) return next(input); // the transport wrapper acts around the chosen command
    return around(where, () => next(input));
  },
};

async function main(): Promise<void> {
  if (plan) wrapHostTransportsForTests((transport) => chaosTransport(transport));
  const target = temporalTarget();
  const connection = await connectWorker(target);
  // MRB_CHAOS_BUNDLE: the harness's bundle of the same workflow code, interceptor included.
  const bundle = process.env.MRB_CHAOS_BUNDLE;
  const worker = await createWorker(connection, target.namespace, {
    ...(bundle ? { workflowsPath: undefined, workflowBundle: { codePath: bundle } } : {}),
    interceptors: {
      activity: [() => ({ inbound: chaosActivities })],
      ...(bundle ? {} : { workflowModules: [CHAOS_WORKFLOW_INTERCEPTORS] }),
    },
    sinks: chaosSinks,
  });
  console.error(`worker: runbooks ${RUNBOOK_NAMES.join(', ')}`);
  console.error(
    `worker: chaos ${process.env.MRB_CHAOS_KILL ?? 'off'}${plan?.command ? ` command /${plan.command.source}/` : ''}`,
  );
  console.error(
    `worker: polling task queue ${TASK_QUEUE} on ${target.connectionOptions.address ?? 'default'}`,
  );
  await worker.run();
  await connection.close();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
