/**
 * Run commands: start, list, show, approve, reject, cancel, watch. They talk to Temporal only (the worker
 * does the work), so they run anywhere the cluster is reachable. Help texts speak of runs, steps and
 * approvals: a run's id is its Temporal workflow id (e.g. mrb.queueBacklog.lab).
 */
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Command } from 'commander';
import { APPROVER_NAME, MAX_COMMENT_CHARS, type DecisionRecord } from '../shared/approval.js';
import { decideUpdate } from '../shared/messages.js';
import { RUNBOOKS, isRunbookName } from '../shared/runbooks.js';
import { GUARD_WORKFLOW } from '../shared/guard.js';
import { AWAITING_APPROVAL, CURRENT_STEP, RUNBOOK, TARGET, VERDICT } from '../shared/search-attributes.js';
import { startRunbook } from '../temporal/start-run.js';
import { loadCliConfig } from './config.js';
import { taskQueue, withClient } from './connect.js';
import {
  buildDecision,
  loadSigningKey,
  pendingRequestId,
  UNSIGNED_NOTE,
  type OutgoingDecision,
} from './decision.js';
import { CliError, context, errorLine, output, seconds, setExitCode, type OutputOptions } from './output.js';
import { renderList, renderShow, type RunRow } from './render.js';
import { fetchRun, isUnknownRun, requireStatus, unknownRun } from './run-state.js';
import { watchRun } from './watch.js';
import { CLI_COMMAND } from '../shared/cli-command.js';

const RUN_ARGUMENT = "the run's id, as `list` shows it (e.g. mrb.queueBacklog.lab)";

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function safeName(value: string, what: string): string {
  if (!SAFE_NAME.test(value))
    throw new CliError(`${what} "${value}" has characters other than letters, digits, . _ -`);
  return value;
}

export interface ListFilter {
  awaiting?: boolean;
  target?: string;
  runbook?: string;
  all?: boolean;
}

/**
 * The visibility query for `list`, on the custom search attributes (src/workflows/search-attributes.ts).
 * Values are validated names, so quoting them is safe.
 */
export function listQuery(filter: ListFilter, queue = taskQueue()): string {
  // The target guard serves the same task queue but is no run: it has no status and no decisions.
  const parts = [`TaskQueue = '${safeName(queue, 'task queue')}'`, `WorkflowType != '${GUARD_WORKFLOW}'`];
  if (!filter.all && !filter.awaiting) parts.push(`ExecutionStatus = 'Running'`);
  if (filter.awaiting) parts.push(`ExecutionStatus = 'Running'`, `${AWAITING_APPROVAL.name} = true`);
  if (filter.target) parts.push(`${TARGET.name} = '${safeName(filter.target, 'target')}'`);
  if (filter.runbook) parts.push(`${RUNBOOK.name} = '${safeName(filter.runbook, 'runbook')}'`);
  return parts.join(' AND ');
}

/**
 * Approve or reject through the `decide` Update: the workflow validates it and answers at once. The
 * decision names the pending request and the run it was read from, so it cannot land on a later request
 * or on a later run under the same workflow id.
 */
async function decide(
  client: Client,
  workflowId: string,
  approved: boolean,
  opts: { step?: string; by: string; comment?: string; request?: string; key?: string; run?: string },
): Promise<{ record: DecisionRecord; signed: boolean }> {
  const by = opts.by.trim();
  if (!by) throw new CliError('--by needs a name');
  const key = await loadSigningKey(opts.key);
  const view = await fetchRun(client, workflowId);
  if (view.execution !== 'RUNNING') {
    const verdict = view.report ? `, verdict ${view.report.verdict}` : '';
    throw new CliError(
      `run ${workflowId} has ended (${view.execution.toLowerCase()}${verdict}): nothing awaits approval`,
    );
  }
  // A command copied from an older run's notification names that run: never decide a newer one with it.
  if (opts.run !== undefined && opts.run !== view.runId)
    throw new CliError(
      `run ${opts.run} of ${workflowId} is not the one running (${view.runId}): nothing decided; read the pending request with show ${workflowId}`,
    );
  const status = requireStatus(view);
  const pending = status.pending;
  if (!pending)
    throw new CliError(
      `run ${workflowId} has no step awaiting approval (current step: ${status.currentStep ?? '-'})`,
    );
  const decision = buildDecision(
    {
      workflowId: view.workflowId,
      runId: view.runId,
      request: opts.request ?? pendingRequestId(pending),
      step: opts.step ?? pending.step,
      approved,
      by,
      comment: opts.comment,
    },
    key,
    new Date(),
  );
  // This run exactly: a newer run under the same workflow id is not the one the decision was made for.
  const handle = client.workflow.getHandle(view.workflowId, view.runId);
  try {
    const record = await client.withDeadline(Date.now() + 30_000, () =>
      handle.executeUpdate<DecisionRecord, [OutgoingDecision]>(decideUpdate.name, { args: [decision] }),
    );
    return { record, signed: decision.proof !== undefined };
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError)
      throw new CliError(`refused by run ${workflowId}: ${errorLine(err.cause ?? err)}`);
    if (isUnknownRun(err)) throw unknownRun(workflowId);
    throw err;
  }
}

/**
 * Asks the run to stop (a cancellation request, recorded in its history with who asked and why). Only a run
 * that is running, and only the instance read here: a newer run under the same id is not touched.
 */
async function cancelRun(
  client: Client,
  workflowId: string,
  opts: { by: string; reason?: string },
): Promise<{ workflowId: string; runId: string; by: string; reason?: string }> {
  const by = opts.by.trim();
  if (!APPROVER_NAME.test(by))
    throw new CliError(
      `--by "${by}" is not a name: letters, digits, . _ @ + - (starting with a letter or digit, at most 64)`,
    );
  const reason = opts.reason?.trim();
  if (reason !== undefined && reason.length > MAX_COMMENT_CHARS)
    throw new CliError(`--reason is longer than ${MAX_COMMENT_CHARS} characters`);
  const view = await fetchRun(client, workflowId);
  if (view.execution !== 'RUNNING') {
    const verdict = view.report ? `, verdict ${view.report.verdict}` : '';
    throw new CliError(
      `run ${workflowId} has ended (${view.execution.toLowerCase()}${verdict}): nothing to cancel`,
    );
  }
  try {
    await client.workflowService.requestCancelWorkflowExecution({
      namespace: client.options.namespace,
      workflowExecution: { workflowId: view.workflowId, runId: view.runId },
      identity: `${by} through the mail-runbooks CLI`,
      requestId: randomUUID(),
      reason: reason ? `cancelled by ${by}: ${reason}` : `cancelled by ${by}`,
    });
  } catch (err) {
    if (isUnknownRun(err)) throw unknownRun(workflowId);
    throw new CliError(`could not cancel ${workflowId}: ${errorLine(err)}`);
  }
  return { workflowId: view.workflowId, runId: view.runId, by, ...(reason ? { reason } : {}) };
}

function parseParams(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs) return undefined;
  return Object.fromEntries(
    pairs.map((kv) => {
      const [key, ...rest] = kv.split('=');
      if (!key || rest.length === 0) throw new CliError(`--param needs key=value, got "${kv}"`);
      return [safeName(key, 'param name'), rest.join('=')];
    }),
  );
}

export function registerRunCommands(program: Command): void {
  program
    .command('start')
    .description(
      'start a runbook (`runbooks` lists them). One run per runbook and target: when one is already ' +
        'running there (started from here, by an alert or a schedule), says so and starts nothing',
    )
    .argument('<runbook>', `runbook name: ${Object.keys(RUNBOOKS).join(', ')}`)
    .option('-t, --target <name>', 'target from the config (default: its defaultTarget)')
    .option('-p, --param <key=value...>', 'runbook parameter, e.g. component=relay')
    .option('--json', 'machine-readable output')
    .action(
      async (
        runbook: string,
        opts: OutputOptions & { target?: string; param?: string[]; config?: string },
      ) => {
        if (!isRunbookName(runbook))
          throw new CliError(`unknown runbook "${runbook}"; one of: ${Object.keys(RUNBOOKS).join(', ')}`);
        const params = parseParams(opts.param);
        // The target is part of the run's workflow id, so "the default target" is resolved to its name.
        const target =
          opts.target === undefined
            ? (await loadCliConfig(opts.config, `start without --target (to find the default target)`))
                .defaultTarget
            : safeName(opts.target, 'target');
        await withClient(async (client) => {
          const run = await startRunbook(client, {
            runbook,
            target,
            trigger: { kind: 'manual', ref: process.env.USER },
            ...(params ? { params } : {}),
            taskQueue: taskQueue(),
          });
          const headline =
            run.outcome === 'started' ? `started ${runbook} on ${target}: ${run.workflowId}` : run.message;
          output(
            opts,
            run,
            [
              headline,
              `  follow it: ${CLI_COMMAND} watch ${run.workflowId}`,
              `  details:   ${CLI_COMMAND} show ${run.workflowId}`,
            ].join('\n'),
          );
        });
      },
    );

  program
    .command('list')
    .description('list runs (running ones unless --all)')
    .option('-a, --awaiting', 'only runs awaiting approval')
    .option('-t, --target <name>', 'only this target')
    .option('-r, --runbook <name>', 'only this runbook')
    .option('--all', 'include finished runs')
    .option('--limit <n>', 'at most this many (1-1000)', '50')
    .option('--json', 'machine-readable output')
    .action(async (opts: OutputOptions & ListFilter & { limit: string }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new CliError('--limit needs a whole number from 1 to 1000');
      const query = listQuery(opts);
      await withClient(async (client) => {
        const rows: RunRow[] = [];
        for await (const run of client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
          const attrs = run.typedSearchAttributes;
          rows.push({
            workflowId: run.workflowId,
            runbook: attrs.get(RUNBOOK) ?? run.type,
            workflowType: run.type,
            status: run.status.name,
            target: attrs.get(TARGET),
            step: attrs.get(CURRENT_STEP),
            awaitingApproval: attrs.get(AWAITING_APPROVAL) ?? false,
            verdict: attrs.get(VERDICT),
            started: run.startTime.toISOString(),
          });
          if (rows.length >= limit) break;
        }
        output(opts, rows, renderList(rows));
      });
    });

  program
    .command('show')
    .description('show a run: its steps, their evidence, the pending approval, decisions and the report')
    .argument('<run>', RUN_ARGUMENT)
    .option('--evidence-chars <n>', 'cut each evidence to this many characters in text output', '300')
    .option('--json', 'machine-readable output (evidence in full)')
    .action(async (workflowId: string, opts: OutputOptions & { evidenceChars: string }) => {
      const chars = Number(opts.evidenceChars);
      if (!Number.isInteger(chars) || chars < 0) throw new CliError('--evidence-chars needs a whole number');
      await withClient(async (client) => {
        const view = await fetchRun(client, workflowId);
        output(opts, view, renderShow(view, chars));
      });
    });

  for (const [name, approved] of [
    ['approve', true],
    ['reject', false],
  ] as const) {
    program
      .command(name)
      .description(
        `${name} the step awaiting approval; the run refuses a decision for a request that is no longer pending`,
      )
      .argument('<run>', RUN_ARGUMENT)
      .option('--step <name>', 'the step being decided (default: the pending one)')
      .option('--request <id>', "the approval request being decided (default: the pending one's id)")
      .option(
        '--run <instance>',
        'the instance of the run the decision is for, as the notification names it (refused when a newer one runs under the same id)',
      )
      .requiredOption('--by <name>', 'who decides (recorded in the history)')
      .option(
        '--key <path>',
        'sign with this OpenSSH ed25519 private key (default: $MRB_APPROVER_KEY; passphrase from $MRB_APPROVER_KEY_PASSPHRASE); without a key the decision is unsigned',
      )
      .option('--comment <text>', 'why')
      .option('--json', 'machine-readable output')
      .action(
        async (
          workflowId: string,
          opts: OutputOptions & {
            step?: string;
            request?: string;
            run?: string;
            by: string;
            key?: string;
            comment?: string;
          },
        ) =>
          withClient(async (client) => {
            const { record, signed } = await decide(client, workflowId, approved, opts);
            if (!signed) context().io.stderr(`${UNSIGNED_NOTE}\n`);
            // Older runs answer without a request id or an authentication: show what there is.
            const how = [record.request, record.authentication].filter(Boolean).join(', ');
            output(
              opts,
              { workflowId, ...record },
              `${record.approved ? 'approved' : 'rejected'} ${record.step} of ${workflowId}: decided by ${record.by}${record.at ? ` at ${record.at}` : ''}${how ? ` [${how}]` : ''}${record.comment ? ` (${record.comment})` : ''}`,
            );
          }),
      );
  }

  program
    .command('cancel')
    .description(
      'stop a run: it takes no further step, and its pending approval request can no longer be decided. ' +
        'A command already running on a host is not interrupted there; `show` tells how the run ended',
    )
    .argument('<run>', RUN_ARGUMENT)
    .requiredOption('--by <name>', "who cancels (recorded in the run's history)")
    .option('--reason <text>', "why (recorded in the run's history)")
    .option('--json', 'machine-readable output')
    .action(async (workflowId: string, opts: OutputOptions & { by: string; reason?: string }) =>
      withClient(async (client) => {
        const result = await cancelRun(client, workflowId, opts);
        output(
          opts,
          result,
          `cancel requested for ${workflowId} by ${result.by}: the run stops at its current step; follow it with ${CLI_COMMAND} show ${workflowId}`,
        );
      }),
    );

  program
    .command('watch')
    .description('follow a run step by step until it ends (exit 0 when it ends with a report)')
    .argument('<run>', RUN_ARGUMENT)
    .option('--timeout <seconds>', 'stop watching after this long (the run goes on)', '3600')
    .option('--interval <seconds>', 'poll every this many seconds', '1')
    .option('--json', 'one JSON object per event, one per line')
    .action(async (workflowId: string, opts: OutputOptions & { timeout: string; interval: string }) =>
      withClient(async (client) => {
        const view = await watchRun(client, workflowId, {
          json: opts.json,
          timeoutSeconds: seconds(opts.timeout, '--timeout', 3600),
          intervalSeconds: Math.max(seconds(opts.interval, '--interval', 1), 0.2),
        });
        if (!view.report) setExitCode(1);
      }),
    );
}
