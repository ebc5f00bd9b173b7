/**
 * Run commands: start, list, show, approve, reject, watch. They talk to Temporal only (the worker does the
 * work), so they run anywhere the cluster is reachable.
 */
import { randomUUID } from 'node:crypto';
import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { Command } from 'commander';
import { TASK_QUEUE, connectClient } from '../temporal/connection.js';
import { decideUpdate, statusQuery } from '../workflows/engine/messages.js';
import { renderStatusMarkdown } from '../workflows/engine/report.js';
import type { RunbookInput, RunbookReport, RunbookStatus } from '../workflows/engine/types.js';
import { RUNBOOKS, isRunbookName } from '../workflows/runbooks.js';
import { AWAITING_APPROVAL, CURRENT_STEP, TARGET } from '../workflows/search-attributes.js';
import { CliError, output, type OutputOptions } from './output.js';

interface RunRow {
  workflowId: string;
  runbook: string;
  status: string;
  target?: string;
  step?: string;
  awaitingApproval: boolean;
  started: string;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function safeName(value: string, what: string): string {
  if (!SAFE_NAME.test(value))
    throw new CliError(`${what} "${value}" has characters other than letters, digits, . _ -`);
  return value;
}

async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient();
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}

/** The visibility query for `list`; values are validated names, so quoting them is safe. */
export function listQuery(filter: {
  awaiting?: boolean;
  target?: string;
  runbook?: string;
  all?: boolean;
}): string {
  const parts = [`TaskQueue = '${TASK_QUEUE}'`];
  if (!filter.all) parts.push(`ExecutionStatus = 'Running'`);
  if (filter.awaiting) parts.push('MrbAwaitingApproval = true');
  if (filter.target) parts.push(`MrbTarget = '${safeName(filter.target, 'target')}'`);
  if (filter.runbook) parts.push(`MrbRunbook = '${safeName(filter.runbook, 'runbook')}'`);
  return parts.join(' AND ');
}

async function runState(
  handle: WorkflowHandle,
): Promise<{ running: boolean; status: RunbookStatus | RunbookReport }> {
  try {
    const description = await handle.describe();
    if (description.status.name === 'RUNNING')
      return { running: true, status: await handle.query(statusQuery) };
    if (description.status.name === 'COMPLETED')
      return { running: false, status: (await handle.result()) as RunbookReport };
    throw new CliError(`run ${handle.workflowId} is ${description.status.name.toLowerCase()}: no report`);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no run with id ${handle.workflowId}`);
    throw err;
  }
}

function decide(approved: boolean) {
  return async (workflowId: string, opts: OutputOptions & { step?: string; by: string; comment?: string }) =>
    withClient(async (client) => {
      const handle = client.workflow.getHandle(workflowId);
      const { running, status } = await runState(handle);
      if (!running || !status.pending) throw new CliError(`run ${workflowId} has no step awaiting approval`);
      const step = opts.step ?? status.pending.step;
      try {
        const record = await handle.executeUpdate(decideUpdate, {
          args: [{ step, approved, by: opts.by, comment: opts.comment }],
        });
        output(
          opts,
          record,
          `${approved ? 'approved' : 'rejected'} ${record.step} of ${workflowId} as ${record.by}`,
        );
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError)
          throw new CliError(`refused: ${err.cause?.message ?? err.message}`);
        throw err;
      }
    });
}

export function registerRunCommands(program: Command): void {
  program
    .command('start')
    .description(`start a runbook: ${Object.keys(RUNBOOKS).join(', ')}`)
    .argument('<runbook>', 'runbook name')
    .option('-t, --target <name>', 'target from the config (default: its defaultTarget)')
    .option('-p, --param <key=value...>', 'runbook parameter, e.g. component=relay')
    .option('--id <workflowId>', 'workflow id (default: runbook.target.random)')
    .option('--json', 'machine-readable output')
    .action(
      async (runbook: string, opts: OutputOptions & { target?: string; param?: string[]; id?: string }) => {
        if (!isRunbookName(runbook))
          throw new CliError(`unknown runbook "${runbook}"; one of: ${Object.keys(RUNBOOKS).join(', ')}`);
        const params = Object.fromEntries(
          (opts.param ?? []).map((kv) => {
            const [key, ...rest] = kv.split('=');
            if (!key || rest.length === 0) throw new CliError(`--param needs key=value, got "${kv}"`);
            return [safeName(key, 'param name'), rest.join('=')];
          }),
        );
        const target = opts.target && safeName(opts.target, 'target');
        const input: RunbookInput = {
          target,
          trigger: { kind: 'manual', ref: process.env.USER },
          ...(opts.param ? { params } : {}),
        };
        const workflowId = opts.id ?? `${runbook}.${target ?? 'default'}.${randomUUID().slice(0, 8)}`;
        await withClient(async (client) => {
          const handle = await client.workflow.start(runbook, {
            taskQueue: TASK_QUEUE,
            workflowId,
            args: [input],
            staticSummary: `${runbook} on ${target ?? 'the default target'}`,
            staticDetails: RUNBOOKS[runbook],
          });
          output(
            opts,
            { workflowId: handle.workflowId, runId: handle.firstExecutionRunId },
            `started ${runbook}: ${handle.workflowId}`,
          );
        });
      },
    );

  program
    .command('list')
    .description('list runs (running by default)')
    .option('--awaiting', 'only runs awaiting approval')
    .option('-t, --target <name>', 'only this target')
    .option('-r, --runbook <name>', 'only this runbook')
    .option('--all', 'include finished runs')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'machine-readable output')
    .action(
      async (
        opts: OutputOptions & {
          awaiting?: boolean;
          target?: string;
          runbook?: string;
          all?: boolean;
          limit: string;
        },
      ) =>
        withClient(async (client) => {
          const limit = Math.min(Math.max(Number(opts.limit) || 50, 1), 1000);
          const rows: RunRow[] = [];
          for await (const run of client.workflow.list({ query: listQuery(opts) })) {
            const attrs = run.typedSearchAttributes;
            rows.push({
              workflowId: run.workflowId,
              runbook: run.type,
              status: run.status.name,
              target: attrs.get(TARGET),
              step: attrs.get(CURRENT_STEP),
              awaitingApproval: attrs.get(AWAITING_APPROVAL) ?? false,
              started: run.startTime.toISOString(),
            });
            if (rows.length >= limit) break;
          }
          const text = rows.length
            ? rows
                .map(
                  (r) =>
                    `${r.workflowId}  ${r.runbook}  ${r.status}  target=${r.target ?? '-'}  step=${r.step ?? '-'}${r.awaitingApproval ? '  AWAITING APPROVAL' : ''}`,
                )
                .join('\n')
            : 'no matching runs';
          output(opts, rows, text);
        }),
    );

  program
    .command('show')
    .description("show a run's steps, evidence, pending approval and report")
    .argument('<workflowId>')
    .option('--json', 'machine-readable output')
    .action(async (workflowId: string, opts: OutputOptions) =>
      withClient(async (client) => {
        const { status } = await runState(client.workflow.getHandle(workflowId));
        output(opts, status, renderStatusMarkdown(status, workflowId));
      }),
    );

  for (const [name, approved] of [
    ['approve', true],
    ['reject', false],
  ] as const) {
    program
      .command(name)
      .description(`${name} the step awaiting approval`)
      .argument('<workflowId>')
      .option('--step <name>', 'the step being decided (default: the pending one)')
      .requiredOption('--by <name>', 'who decides (recorded in the history)')
      .option('--comment <text>', 'why')
      .option('--json', 'machine-readable output')
      .action(decide(approved));
  }

  program
    .command('watch')
    .description('follow a run step by step until it ends')
    .argument('<workflowId>')
    .option('--timeout <seconds>', 'stop watching after this long', '3600')
    .option('--json', 'one JSON line per change')
    .action(async (workflowId: string, opts: OutputOptions & { timeout: string }) =>
      withClient(async (client) => {
        const handle = client.workflow.getHandle(workflowId);
        const deadline = Date.now() + Math.max(Number(opts.timeout) || 3600, 1) * 1000;
        let last = '';
        for (;;) {
          const { running, status } = await runState(handle);
          const line = progressLine(status);
          if (line !== last) {
            output(opts, status, line);
            last = line;
          }
          if (!running) return;
          if (Date.now() > deadline)
            throw new CliError(`still running after ${opts.timeout}s; stopped watching`);
          await new Promise((r) => setTimeout(r, 1000));
        }
      }),
    );
}

/** One line per state: "[3/7] queue-drains ... | awaiting approval: flush-queue". */
export function progressLine(status: RunbookStatus): string {
  const done = status.steps.filter((s) => s.endedAt).length;
  const current = status.steps.at(-1);
  const head = `[${done}/${status.steps.length}] ${current ? `${current.name}: ${current.summary}` : 'starting'}`;
  if (status.verdict) return `${head}\n=> ${status.verdict}: ${status.cause ?? ''}`;
  return status.pending
    ? `${head} | awaiting approval: ${status.pending.step} (${status.pending.reason})`
    : head;
}
