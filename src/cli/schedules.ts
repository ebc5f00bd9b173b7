/** `schedules` commands: make the config's schedules exist in Temporal (idempotent), list them, run one now. */
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { selectTargets } from '../config/select-targets.js';
import {
  deleteSchedule,
  ensureSchedules,
  scheduledWork,
  triggerSchedule,
  type EnsureResult,
  type ScheduleSpec,
} from '../temporal/schedules.js';
import { loadCliConfig } from './config.js';
import { taskQueue, withClient } from './connect.js';
import { CliError, output, type OutputOptions } from './output.js';

/** The ids of the project's schedules (every one ensure created: `mrb.<name>`, older ones `mrb.<name>.<target>`). */
async function projectScheduleIds(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of client.schedule.list()) {
    if (s.scheduleId.startsWith('mrb.')) ids.push(s.scheduleId);
    if (ids.length >= 1000) break;
  }
  return ids;
}

/** One Temporal schedule per config schedule, starting a fleet over the targets it names or selects. */
export function scheduleSpecs(config: Config): ScheduleSpec[] {
  return config.schedules.map((s) => {
    const selection = typeof s.targets === 'string' ? s.targets : s.targets.join(',');
    return {
      name: s.name,
      runbook: s.runbook,
      cron: s.cron,
      timezone: s.timezone,
      jitterSeconds: s.jitterSeconds,
      selection,
      targets: selectTargets(config, selection),
      maxConcurrent: s.maxConcurrent,
      maxFailures: s.maxFailures,
    };
  });
}

function ensureLine(r: EnsureResult): string {
  const line = `${r.outcome.padEnd(9)} ${r.id}`;
  return r.replacedBy
    ? `${line} (one schedule per target, from an older version; replaced by ${r.replacedBy})`
    : line;
}

export function registerScheduleCommands(program: Command): void {
  const schedules = program.command('schedules').description("the config's schedules in Temporal");
  schedules
    .command('ensure')
    .description(
      'create or update every schedule of the config (one each, starting a fleet over its targets) and delete the per-target schedules of older versions they replace; running it twice changes nothing',
    )
    .option('--json', 'machine-readable output')
    .action(async (opts: OutputOptions & { config?: string }) => {
      const specs = scheduleSpecs(await loadCliConfig(opts.config, 'schedules ensure'));
      await withClient(async (client) => {
        const results = await ensureSchedules(client, specs, { taskQueue: taskQueue() });
        output(
          opts,
          results,
          results.length ? results.map(ensureLine).join('\n') : 'the config has no schedules',
        );
      });
    });
  schedules
    .command('list')
    .description('list the schedules in Temporal')
    .option('--json', 'machine-readable output')
    .action(async (opts: OutputOptions) => {
      await withClient(async (client) => {
        const rows = [];
        for await (const s of client.schedule.list()) {
          if (!s.scheduleId.startsWith('mrb.')) continue;
          rows.push({
            id: s.scheduleId,
            // The action is a starter workflow for every schedule; the runbook and targets are in its input.
            ...(await scheduledWork(client, s.scheduleId)),
            workflowType: s.action?.type === 'startWorkflow' ? s.action.workflowType : undefined,
            nextActionTimes: s.info.nextActionTimes.slice(0, 2).map((d) => d.toISOString()),
            paused: s.state.paused,
          });
          if (rows.length >= 500) break;
        }
        output(
          opts,
          rows,
          rows.length
            ? rows
                .map(
                  (r) =>
                    `${r.id}  ${r.runbook ?? '-'}${r.on ? ` on ${r.on}` : ''}  next ${r.nextActionTimes[0] ?? '-'}${r.paused ? '  (paused)' : ''}`,
                )
                .join('\n')
            : 'no schedules',
        );
      });
    });
  schedules
    .command('trigger')
    .description("start the schedule's fleet now")
    .argument('<schedule>', 'schedule id, as `schedules list` shows it (e.g. mrb.nightly-e2e)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: OutputOptions) => {
      await withClient(async (client) => {
        await triggerSchedule(client, id);
        output(opts, { triggered: id }, `triggered ${id}`);
      });
    });
  schedules
    .command('delete')
    .description(
      'delete schedules (runs they already started go on): the ones named, or with --all every schedule of mail-runbooks (uninstall)',
    )
    .argument('[schedule...]', 'schedule ids, as `schedules list` shows them')
    .option('--all', 'every mail-runbooks schedule (ids starting with mrb.)')
    .option('--json', 'machine-readable output')
    .action(async (named: string[], opts: OutputOptions & { all?: boolean }) => {
      if (named.length === 0 && !opts.all) throw new CliError('name the schedules to delete, or pass --all');
      if (named.length > 0 && opts.all) throw new CliError('name schedules or pass --all, not both');
      await withClient(async (client) => {
        const ids = opts.all ? await projectScheduleIds(client) : named;
        for (const id of ids) await deleteSchedule(client, id);
        output(
          opts,
          { deleted: ids },
          ids.length ? ids.map((id) => `deleted ${id}`).join('\n') : 'no schedules',
        );
      });
    });
}
