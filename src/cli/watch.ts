/**
 * `watch <run>`: follows a run live until it ends. One line per event (step started / ended, approval
 * requested, decision), a redrawn progress line on a terminal, one JSON object per event with --json.
 * Bounded: it polls every --interval seconds and gives up after --timeout seconds (the run goes on).
 */
import type { Client } from '@temporalio/client';
import type { RunbookStatus } from '../shared/types.js';
import { CliError, context, output, type OutputOptions } from './output.js';
import { progressLine, renderEvent, statusEvents } from './render.js';
import { fetchRun, type RunView } from './run-state.js';

export interface WatchOptions extends OutputOptions {
  timeoutSeconds: number;
  intervalSeconds: number;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** Consecutive polls whose status query went unanswered before giving up (a worker restart is fine). */
const MAX_MISSED_POLLS = 30;

export async function watchRun(client: Client, workflowId: string, opts: WatchOptions): Promise<RunView> {
  const { io } = context();
  const live = Boolean(io.isTTY) && !opts.json;
  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  let previous: RunbookStatus | undefined;
  let drawn = false;
  let missed = 0;
  const clear = (): void => {
    if (drawn) io.stdout('\r\x1b[2K');
    drawn = false;
  };
  const emit = (data: unknown, text: string): void => {
    clear();
    output(opts, data, text);
  };

  let view = await fetchRun(client, workflowId);
  if (!opts.json)
    emit(
      {},
      `watching ${workflowId} (${view.status?.runbook ?? view.workflowType}${view.status?.target ? ` on ${view.status.target}` : ''}); Ctrl-C stops watching, not the run`,
    );
  for (let tick = 0; ; tick++) {
    if (view.status) {
      missed = 0;
      for (const e of statusEvents(previous, view.status))
        emit({ workflowId, ...e }, renderEvent(e, workflowId));
      previous = view.status;
    } else if (view.execution === 'RUNNING' && ++missed >= MAX_MISSED_POLLS) {
      throw new CliError(`run ${workflowId}: ${view.statusError ?? 'no status'}`);
    }
    if (view.execution !== 'RUNNING') break;
    if (Date.now() >= deadline) {
      clear();
      throw new CliError(
        `run ${workflowId} still running after ${opts.timeoutSeconds}s; stopped watching (the run goes on)`,
      );
    }
    if (live && view.status) {
      io.stdout(`\r\x1b[2K${progressLine(view.status, Date.now(), SPINNER[tick % SPINNER.length]!)}`);
      drawn = true;
    }
    await new Promise((r) => setTimeout(r, Math.min(opts.intervalSeconds * 1000, deadline - Date.now())));
    view = await fetchRun(client, workflowId, {
      queryTimeoutMs: Math.max(opts.intervalSeconds * 1000, 5_000),
    });
  }

  clear();
  const report = view.report;
  if (report) {
    emit(
      {
        workflowId,
        event: 'ended',
        execution: view.execution,
        verdict: report.verdict,
        cause: report.cause,
        report,
      },
      `=> ${report.verdict}: ${report.cause} (${report.steps.length} steps, ${report.decisions.length} decision${report.decisions.length === 1 ? '' : 's'})`,
    );
  } else {
    emit(
      { workflowId, event: 'ended', execution: view.execution, failure: view.failure },
      `=> run ${view.execution.toLowerCase()} without a report${view.failure ? `: ${view.failure}` : ''}`,
    );
  }
  return view;
}
