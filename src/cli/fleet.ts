/**
 * `fleet <runbook>`: the runbook on many targets of the config as one fleet run (src/workflows/fleet.ts),
 * a few at a time, following its progress until it ends (or for --follow-minutes; it goes on without us).
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Command } from 'commander';
import { selectTargets } from '../config/select-targets.js';
import {
  FLEET_DEFAULTS,
  FLEET_WORKFLOW,
  fleetProgress,
  fleetStatusQuery,
  fleetWorkflowId,
  type FleetInput,
  type FleetReport,
  type FleetStatus,
} from '../shared/fleet.js';
import { RUNBOOKS, isRunbookName } from '../shared/runbooks.js';
import { loadCliConfig } from './config.js';
import { taskQueue, withClient } from './connect.js';
import { CliError, context, output, setExitCode, type OutputOptions } from './output.js';

const POLL_MS = 2_000;

function wholeNumber(value: string, option: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new CliError(`${option} needs a whole number from 1 to ${max}`);
  return n;
}

function renderTargets(status: FleetStatus): string {
  return status.targets
    .map((t) => `  ${t.target.padEnd(24)} ${(t.verdict ?? t.state).padEnd(16)} ${t.detail ?? ''}`.trimEnd())
    .join('\n');
}

export function registerFleetCommand(program: Command): void {
  program
    .command('fleet')
    .description(
      'run a runbook on many targets, a few at a time, and report per target. Each target gets its usual run ' +
        '(one per runbook and target): a target where that runbook is already running is left alone',
    )
    .argument('<runbook>', `runbook name: ${Object.keys(RUNBOOKS).join(', ')}`)
    .option('--targets <selection>', 'all, label=<key>=<value>, or a comma list of target names', 'all')
    .option('--max-concurrent <n>', 'runs going on at once (1-100)', String(FLEET_DEFAULTS.maxConcurrent))
    .option(
      '--max-failures <k>',
      'start no new run after this many targets failed (1-10000)',
      String(FLEET_DEFAULTS.maxFailures),
    )
    .option('--follow-minutes <n>', 'follow the progress this long at most (it goes on after)', '180')
    .option('--no-follow', 'start it and return')
    .option('-c, --config <path>', 'config file (default: $MRB_CONFIG, else ./mail-runbooks.yaml)')
    .option('--json', 'machine-readable output')
    .action(
      async (
        runbook: string,
        opts: OutputOptions & {
          targets: string;
          maxConcurrent: string;
          maxFailures: string;
          followMinutes: string;
          follow: boolean;
          config?: string;
        },
      ) => {
        if (!isRunbookName(runbook))
          throw new CliError(`unknown runbook "${runbook}"; one of: ${Object.keys(RUNBOOKS).join(', ')}`);
        const config = await loadCliConfig(opts.config, 'fleet');
        let targets: string[];
        try {
          targets = selectTargets(config, opts.targets);
        } catch (err) {
          throw new CliError((err as Error).message);
        }
        const input: FleetInput = {
          runbook,
          targets,
          maxConcurrent: wholeNumber(opts.maxConcurrent, '--max-concurrent', 100),
          maxFailures: wholeNumber(opts.maxFailures, '--max-failures', 10_000),
          trigger: { kind: 'manual', ref: process.env.USER },
        };
        const followMs = wholeNumber(opts.followMinutes, '--follow-minutes', 24 * 60) * 60_000;
        const workflowId = fleetWorkflowId(runbook, opts.targets);
        await withClient(async (client) => {
          let handle;
          try {
            handle = await client.workflow.start(FLEET_WORKFLOW, {
              taskQueue: taskQueue(),
              workflowId,
              args: [input],
              workflowIdConflictPolicy: 'FAIL',
              workflowIdReusePolicy: 'ALLOW_DUPLICATE',
              staticSummary: `${runbook} fleet on ${targets.length} target(s) (${opts.targets}), started by ${process.env.USER ?? 'a manual start'}`,
            });
          } catch (err) {
            if (err instanceof WorkflowExecutionAlreadyStartedError)
              throw new CliError(
                `a ${runbook} fleet on "${opts.targets}" is already running (${workflowId}); follow it in the Web UI or wait for it to end`,
              );
            throw err;
          }
          const io = context().io;
          if (!opts.json)
            io.stdout(
              `started ${runbook} on ${targets.length} target(s), ${input.maxConcurrent} at a time: ${workflowId}\n`,
            );
          if (!opts.follow) {
            if (opts.json) output(opts, { workflowId, targets }, '');
            return;
          }
          const deadline = Date.now() + followMs;
          const result = handle.result() as Promise<FleetReport>;
          result.catch(() => undefined); // observed below; no unhandled rejection if we stop following first
          let last = '';
          // Bounded: one query every POLL_MS until the fleet ends or --follow-minutes pass.
          while (Date.now() < deadline) {
            const done = await Promise.race([
              result,
              new Promise<undefined>((r) => setTimeout(() => r(undefined), POLL_MS)),
            ]);
            if (done) {
              output(opts, done, `${fleetProgress(done)}\nverdict: ${done.verdict}\n${renderTargets(done)}`);
              if (done.verdict !== 'ok') setExitCode(1);
              return;
            }
            const line = fleetProgress(await handle.query(fleetStatusQuery));
            if (line !== last && !opts.json) io.stdout(`${line}\n`);
            last = line;
          }
          const status = await handle.query(fleetStatusQuery);
          output(
            opts,
            status,
            `${fleetProgress(status)}\nstill running after --follow-minutes; it goes on: ${workflowId}`,
          );
        });
      },
    );
}
