/**
 * What the Temporal Web UI shows of a run at a glance: its static summary (one line in the workflow list and
 * at the top of the run's page) and static details (markdown under "Summary & Details"). Set by every start
 * path (src/temporal/start-run.ts for the CLI, the alert receiver and schedules; the schedules' own starter
 * and the target guard). Pure.
 *
 * Text that comes from outside (an alert's name and fingerprint, a user name, parameter names) goes through
 * `plainText`: one line, a small alphabet with no markdown or HTML in it, bounded. Parameter values are never
 * shown (they may be addresses or free text); secrets never reach a start in the first place.
 */
import { RUNBOOKS, isRunbookName } from './runbooks.js';
import type { RunbookInput } from './types.js';

type Trigger = NonNullable<RunbookInput['trigger']>;

/** Letters, digits and a few separators; anything else becomes '?'. No `*`, `|`, `` ` ``, `<`, `[`. */
const UNSAFE = /[^\p{L}\p{N} .,:;@/+=()#_-]/gu;

export function plainText(value: string, max = 80): string {
  const text = value.replace(/\s+/g, ' ').replace(UNSAFE, '?').trim();
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export interface RunMetadataInput {
  runbook: string;
  target: string;
  /** Who or what started it, for people: "alert SmtpRelayDown (fingerprint 1a2b)", "alice (manual start)". */
  startedBy: string;
  trigger: Trigger;
  params?: Record<string, unknown>;
}

export interface RunMetadata {
  staticSummary: string;
  staticDetails: string;
}

const TRIGGER_WORDS: Record<Trigger['kind'], string> = {
  alert: 'an alert (Alertmanager → the receiver)',
  manual: 'a person (CLI)',
  schedule: 'a schedule',
};

export function runMetadata(run: RunMetadataInput): RunMetadata {
  const runbook = plainText(run.runbook, 40);
  const target = plainText(run.target, 60);
  const startedBy = plainText(run.startedBy);
  const what = isRunbookName(run.runbook) ? RUNBOOKS[run.runbook] : 'runbook';
  const params = Object.keys(run.params ?? {}).map((k) => plainText(k, 30));
  return {
    staticSummary: `${runbook} on ${target} (started by ${startedBy})`,
    staticDetails: [
      `**${runbook}** on target **${target}**: ${what}.`,
      '',
      '| | |',
      '|---|---|',
      `| started by | ${startedBy} |`,
      `| trigger | ${TRIGGER_WORDS[run.trigger.kind]} |`,
      ...(params.length ? [`| parameters | ${params.join(', ')} (values in the workflow input) |`] : []),
    ].join('\n'),
  };
}

/** The schedules' starter run: which runbook it starts, where, and for which schedule. */
export function scheduledStartMetadata(s: {
  runbook: string;
  target: string;
  schedule: string;
}): RunMetadata {
  const runbook = plainText(s.runbook, 40);
  const target = plainText(s.target, 60);
  const schedule = plainText(s.schedule, 60);
  return {
    staticSummary: `start ${runbook} on ${target} (schedule ${schedule})`,
    staticDetails:
      `Started by the schedule **${schedule}**: starts **${runbook}** on **${target}** through the one start ` +
      'path, whose run has its own summary. If that runbook is already running on the target, it is left alone.',
  };
}

/** A fleet run: one runbook on many targets, as child runs with their own summaries. */
export function fleetMetadata(f: {
  runbook: string;
  selection: string;
  targets: number;
  startedBy: string;
}): RunMetadata {
  const runbook = plainText(f.runbook, 40);
  const selection = plainText(f.selection, 60);
  const startedBy = plainText(f.startedBy);
  return {
    staticSummary: `${runbook} fleet on ${f.targets} target(s) (${selection}), started by ${startedBy}`,
    staticDetails:
      `**${runbook}** on ${f.targets} target(s) picked by **${selection}**, started by ${startedBy}: one child ` +
      'run per target, a few at a time; progress in the current details and the fleetStatus query. A target ' +
      'where that runbook is already running is left alone.',
  };
}

/** A schedule's starter of its fleet: which runbook, on which targets, for which schedule. */
export function scheduledFleetMetadata(s: {
  runbook: string;
  selection: string;
  schedule: string;
}): RunMetadata {
  const runbook = plainText(s.runbook, 40);
  const selection = plainText(s.selection, 60);
  const schedule = plainText(s.schedule, 60);
  return {
    staticSummary: `start a ${runbook} fleet on ${selection} (schedule ${schedule})`,
    staticDetails:
      `Started by the schedule **${schedule}**: starts a **${runbook}** fleet on **${selection}** under the ` +
      "fleet's one id, whose run has its own summary. If that fleet is already going, it is left alone.",
  };
}

/** The target guard of a task queue: serialises state-changing steps per target. */
export function guardMetadata(taskQueue: string): RunMetadata {
  const queue = plainText(taskQueue, 80);
  return {
    staticSummary: `target guard for task queue ${queue}`,
    staticDetails:
      `Hands out leases so that one run at a time changes a target (task queue ${queue}). Started by the ` +
      'first run that asked for a lease; not a runbook.',
  };
}
