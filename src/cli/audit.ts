/**
 * `audit`: every decision and every refused decision across the runs on the task queue, running and closed,
 * newest first. Runs are found through the visibility API; each run's decisions come from its status query
 * (running) or its report (completed), as `show` reads them.
 */
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import type { DecisionAuthentication, DecisionRecord, RefusedDecision } from '../shared/approval.js';
import { RUNBOOK, TARGET } from '../shared/search-attributes.js';
import { withClient } from './connect.js';
import { CliError, context, errorLine, output, type OutputOptions } from './output.js';
import { alignColumns } from './render.js';
import { fetchRun, type RunView } from './run-state.js';
import { listQuery } from './runs.js';

export const DEFAULT_AUDIT_RUNS = 200;
export const MAX_AUDIT_RUNS = 2000;
/** Runs read at once: enough to be quick, few enough not to crowd a shared server. */
const PARALLEL_READS = 8;
/** A running run whose worker does not answer is reported, not waited for at length. */
const AUDIT_QUERY_TIMEOUT_MS = 5_000;

const DURATION = /^(\d{1,6})([smhdw])$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
/** ISO 8601: a date, optionally a time and a zone (Date.parse alone accepts far too much). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `--since`: an ISO time, or a duration back from `now` (30m, 24h, 7d, 2w). */
export function parseSince(value: string, now: Date): Date {
  const text = value.trim();
  const duration = DURATION.exec(text);
  if (duration) {
    const [, amount, unit] = duration;
    return new Date(now.getTime() - Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS]);
  }
  const ms = ISO_TIME.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms))
    throw new CliError(
      `--since needs an ISO time (2026-01-31T08:00Z) or a duration (30m, 24h, 7d), got "${value}"`,
    );
  return new Date(ms);
}

export interface AuditFilter {
  target?: string;
  runbook?: string;
  since?: Date;
}

/**
 * The visibility query: `list --all`'s (the same validated names), and with `since`, the runs that were
 * open at some point since then. A run started before `since` can hold a decision made after it.
 */
export function auditQuery(filter: AuditFilter, queue?: string): string {
  const base = listQuery({ all: true, target: filter.target, runbook: filter.runbook }, queue);
  if (!filter.since) return base;
  return `${base} AND (ExecutionStatus = 'Running' OR CloseTime >= '${filter.since.toISOString()}')`;
}

export interface AuditEntry {
  /** When the decision was made or refused (ISO 8601). */
  at: string;
  target?: string;
  runbook?: string;
  workflowId: string;
  runId: string;
  request?: string;
  step?: string;
  outcome: 'approved' | 'rejected' | 'refused';
  /** Refused: the rule the decision broke. */
  rule?: string;
  by?: string;
  via: DecisionRecord['via'] | RefusedDecision['via'];
  /** Accepted decisions: what proved who decided. Refused ones did not count, so none is recorded. */
  authentication?: DecisionAuthentication;
  comment?: string;
  /** Refused: why. */
  reason?: string;
}

/** What the visibility listing says about a run, for runs whose status does not name them. */
export interface RunLabels {
  target?: string;
  runbook?: string;
}

/** The decisions and refused decisions of one run, in the order they were made. */
export function auditEntries(view: RunView, labels: RunLabels = {}): AuditEntry[] {
  const status = view.status;
  if (!status) return [];
  const run = {
    target: status.target ?? labels.target,
    runbook: status.runbook || labels.runbook,
    workflowId: view.workflowId,
    runId: view.runId,
  };
  const decided: AuditEntry[] = (status.decisions ?? []).map((d) => ({
    at: d.at,
    ...run,
    request: d.request,
    step: d.step,
    outcome: d.approved ? 'approved' : 'rejected',
    by: d.by,
    via: d.via,
    authentication: d.authentication,
    comment: d.comment,
  }));
  const refused: AuditEntry[] = (status.refused ?? []).map((r) => ({
    at: r.at,
    ...run,
    request: r.request,
    step: r.step,
    outcome: 'refused',
    rule: r.rule,
    by: r.by,
    via: r.via,
    reason: r.reason,
  }));
  return [...decided, ...refused];
}

/** Newest first; entries made before `since` left out. Equal times keep their order within a run. */
export function auditTimeline(entries: AuditEntry[], since?: Date): AuditEntry[] {
  const from = since?.getTime();
  return entries
    .map((entry, index) => ({ entry, index, ms: Date.parse(entry.at) }))
    .filter(({ ms }) => from === undefined || !Number.isFinite(ms) || ms >= from)
    .sort((a, b) => (b.ms || 0) - (a.ms || 0) || b.index - a.index)
    .map(({ entry }) => entry);
}

export function outcomeText(entry: AuditEntry): string {
  return entry.outcome === 'refused' ? `refused: ${entry.rule ?? '?'}` : entry.outcome;
}

/** Free text on one line, bounded: a comment must not break the table. */
function oneLine(text: string | undefined, max = 200): string {
  const line = (text ?? '').replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** One aligned line per entry; the comment or reason last, unpadded. */
export function renderAudit(entries: AuditEntry[]): string {
  if (entries.length === 0) return 'no decisions';
  const table = [
    ['TIME', 'TARGET', 'RUNBOOK', 'RUN', 'REQUEST', 'STEP', 'OUTCOME', 'BY', 'VIA', 'AUTH', 'COMMENT/REASON'],
    ...entries.map((e) => [
      e.at,
      e.target ?? '-',
      e.runbook ?? '-',
      `${e.workflowId} ${e.runId}`,
      e.request ?? '-',
      e.step ?? '-',
      outcomeText(e),
      e.by ?? '-',
      e.via,
      e.authentication ?? '-',
      oneLine(e.outcome === 'refused' ? e.reason : e.comment),
    ]),
  ];
  return alignColumns(table, true);
}

interface ListedRun extends RunLabels {
  workflowId: string;
  runId: string;
}

/** The runs matching the query, newest first, at most `limit`; `cut` when more matched. */
async function listRuns(
  client: Client,
  query: string,
  limit: number,
): Promise<{ runs: ListedRun[]; cut: boolean }> {
  const runs: ListedRun[] = [];
  for await (const run of client.workflow.list({ query, pageSize: Math.min(limit + 1, 1000) })) {
    if (runs.length >= limit) return { runs, cut: true };
    const attrs = run.typedSearchAttributes;
    runs.push({
      workflowId: run.workflowId,
      runId: run.runId,
      target: attrs.get(TARGET),
      runbook: attrs.get(RUNBOOK),
    });
  }
  return { runs, cut: false };
}

/** Each run's entries; a run that cannot be read is named in `problems`, and the others still count. */
async function readRuns(
  client: Client,
  runs: ListedRun[],
): Promise<{ entries: AuditEntry[]; problems: string[] }> {
  const entries: AuditEntry[] = [];
  const problems: string[] = [];
  for (let i = 0; i < runs.length; i += PARALLEL_READS) {
    await Promise.all(
      runs.slice(i, i + PARALLEL_READS).map(async (run) => {
        try {
          const view = await fetchRun(client, run.workflowId, {
            runId: run.runId,
            queryTimeoutMs: AUDIT_QUERY_TIMEOUT_MS,
          });
          if (!view.status)
            problems.push(
              `${run.workflowId} ${run.runId}: no decisions readable (${view.statusError ?? view.failure ?? view.execution.toLowerCase()})`,
            );
          entries.push(...auditEntries(view, run));
        } catch (err) {
          problems.push(`${run.workflowId} ${run.runId}: ${errorLine(err)}`);
        }
      }),
    );
  }
  return { entries, problems };
}

function runLimit(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_RUNS)
    throw new CliError(`--limit needs a whole number from 1 to ${MAX_AUDIT_RUNS}`);
  return limit;
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description(
      'list every decision and refused decision across runs (running and closed), newest first: who, ' +
        'through which channel, signed or not, and why',
    )
    .option('--since <time>', 'only decisions since this ISO time or this long ago (30m, 24h, 7d)')
    .option('-t, --target <name>', 'only this target')
    .option('-r, --runbook <name>', 'only this runbook')
    .option(
      '--limit <n>',
      `read at most this many runs, newest first (1-${MAX_AUDIT_RUNS})`,
      String(DEFAULT_AUDIT_RUNS),
    )
    .option('--json', 'machine-readable output: an array of decisions')
    .action(
      async (opts: OutputOptions & { since?: string; target?: string; runbook?: string; limit: string }) => {
        const limit = runLimit(opts.limit);
        const since = opts.since === undefined ? undefined : parseSince(opts.since, new Date());
        const query = auditQuery({ target: opts.target, runbook: opts.runbook, since });
        await withClient(async (client) => {
          const { runs, cut } = await listRuns(client, query, limit);
          const { entries, problems } = await readRuns(client, runs);
          const timeline = auditTimeline(entries, since);
          // Notes go to stderr, so --json stays one array on stdout.
          const { io } = context();
          for (const problem of problems) io.stderr(`mail-runbooks: ${problem}\n`);
          if (cut)
            io.stderr(
              `mail-runbooks: read the newest ${limit} runs only (--limit); older runs may hold more decisions\n`,
            );
          output(opts, timeline, renderAudit(timeline));
        });
      },
    );
}
