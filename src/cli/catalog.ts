/**
 * `runbooks` and `targets`: what can be run, and where. `runbooks` reads the runbook registry
 * (src/shared/runbooks.ts, the one list of names and descriptions); `targets` reads the config and shows
 * where each target's parts are, its approval policy, schedules and alert routes, never a secret or the
 * reference to one.
 */
import type { Command } from 'commander';
import { describeTarget, type TargetSummary } from '../config/check.js';
import type { Config, Target } from '../config/schema.js';
import { RUNBOOKS } from '../shared/runbooks.js';
import { loadCliConfig } from './config.js';
import { output, type OutputOptions } from './output.js';

export interface RunbookRow {
  name: string;
  description: string;
}

export function runbookRows(): RunbookRow[] {
  return Object.entries(RUNBOOKS).map(([name, description]) => ({ name, description }));
}

export interface TargetRow extends TargetSummary {
  default: boolean;
  approval: {
    approvers: string[];
    minApprovals: number;
    fourEyes: boolean;
    allowUnsigned: boolean;
    unattended: string[];
    timeoutSeconds: number;
  };
  schedules: { name: string; runbook: string; cron: string; timezone: string }[];
  /** Alert names whose route starts a runbook on this target (a fixed target, a label, or the default). */
  alertRoutes: { alertname: string; runbook: string }[];
}

function routesTo(config: Config, target: Target): TargetRow['alertRoutes'] {
  return (config.alerts?.routes ?? []).flatMap((r) => {
    const reaches = r.target
      ? r.target === target.name
      : r.targetLabel !== undefined || target.name === config.defaultTarget;
    return reaches ? [{ alertname: r.match.alertname ?? JSON.stringify(r.match), runbook: r.runbook }] : [];
  });
}

export function targetRows(config: Config): TargetRow[] {
  return config.targets.map((t) => ({
    ...describeTarget(t),
    default: t.name === config.defaultTarget,
    approval: {
      approvers: t.approval.approvers,
      minApprovals: t.approval.minApprovals,
      fourEyes: t.approval.fourEyes,
      allowUnsigned: t.approval.allowUnsigned,
      unattended: t.approval.unattended,
      timeoutSeconds: t.approval.timeoutSeconds,
    },
    schedules: config.schedules
      .filter((s) => s.targets.includes(t.name))
      .map((s) => ({ name: s.name, runbook: s.runbook, cron: s.cron, timezone: s.timezone })),
    alertRoutes: routesTo(config, t),
  }));
}

function renderTargets(rows: TargetRow[]): string {
  return rows
    .map((t) => {
      const a = t.approval;
      const who = a.approvers.length ? a.approvers.join(', ') : 'any configured approver';
      return [
        `${t.name}${t.default ? ' (default)' : ''}`,
        `  mail server: ${t.mailServer}`,
        `  relay:       ${t.relay}`,
        `  canary:      ${t.canary}`,
        `  approval:    ${a.minApprovals} of ${who}${a.fourEyes ? ', four eyes' : ''}${a.allowUnsigned ? ', unsigned decisions count' : ', signed decisions only'}; deadline ${a.timeoutSeconds} s` +
          (a.unattended.length ? `; unattended: ${a.unattended.join(', ')}` : ''),
        `  schedules:   ${t.schedules.map((s) => `${s.name} (${s.runbook}, ${s.cron} ${s.timezone})`).join('; ') || '-'}`,
        `  alerts:      ${t.alertRoutes.map((r) => `${r.alertname} -> ${r.runbook}`).join('; ') || '-'}`,
      ].join('\n');
    })
    .join('\n');
}

export function registerCatalogCommands(program: Command): void {
  program
    .command('runbooks')
    .description('list the runbooks with what each does')
    .option('--json', 'machine-readable output')
    .action((opts: OutputOptions) => {
      const rows = runbookRows();
      const width = Math.max(...rows.map((r) => r.name.length));
      output(opts, rows, rows.map((r) => `${r.name.padEnd(width)}  ${r.description}`).join('\n'));
    });

  program
    .command('targets')
    .description(
      "list the config's targets: mail server, relay, canary, approval policy, schedules and alert routes (no secrets)",
    )
    .option('--json', 'machine-readable output')
    .action(async (opts: OutputOptions & { config?: string }) => {
      const rows = targetRows(await loadCliConfig(opts.config, 'targets'));
      output(opts, rows, renderTargets(rows));
    });
}
