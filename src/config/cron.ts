/**
 * Checks the cron strings and time zones of schedules before they reach Temporal, so a typo is reported
 * with the config's line number instead of failing later when the schedule is created. Pure.
 */

const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface Field {
  name: string;
  min: number;
  max: number;
  /** Three-letter names, the first one standing for `min`. */
  names?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  // 7 is Sunday too, as in Vixie cron and Temporal.
  { name: 'day of week', min: 0, max: 7, names: DAYS },
];

function value(token: string, field: Field): number | string {
  const byName = field.names?.indexOf(token.toLowerCase()) ?? -1;
  if (byName >= 0) return field.min + byName;
  if (!/^\d{1,2}$/.test(token)) return `${field.name} "${token}" is not a number`;
  const n = Number(token);
  if (n < field.min || n > field.max) return `${field.name} ${n} is outside ${field.min}-${field.max}`;
  return n;
}

/** One comma-separated item: `*`, `*\/n`, `a`, `a-b`, `a-b/n` or `a/n`. Returns a problem or undefined. */
function itemProblem(item: string, field: Field): string | undefined {
  const [range = '', step, extra] = item.split('/');
  if (extra !== undefined) return `${field.name} "${item}" has more than one "/"`;
  if (step !== undefined && (!/^\d{1,2}$/.test(step) || Number(step) === 0)) {
    return `${field.name} step "${step}" must be a whole number from 1`;
  }
  if (range === '*') return undefined;
  const [from = '', to, more] = range.split('-');
  if (more !== undefined) return `${field.name} "${range}" is not a range a-b`;
  const start = value(from, field);
  if (typeof start === 'string') return start;
  if (to === undefined) return undefined;
  const end = value(to, field);
  if (typeof end === 'string') return end;
  return start > end ? `${field.name} range ${from}-${to} runs backwards` : undefined;
}

/** Why `expr` is not a 5-field cron expression or macro Temporal accepts, or undefined when it is fine. */
export function cronProblem(expr: string): string | undefined {
  const trimmed = expr.trim();
  if (trimmed.startsWith('@')) {
    return MACROS.has(trimmed) ? undefined : `unknown macro "${trimmed}"; one of ${[...MACROS].join(', ')}`;
  }
  const parts = trimmed.split(/\s+/);
  if (parts.length !== FIELDS.length) {
    return `has ${parts.length} field(s); expected 5: minute hour day-of-month month day-of-week`;
  }
  for (const [i, part] of parts.entries()) {
    const field = FIELDS[i];
    if (!field) break;
    for (const item of part.split(',')) {
      const problem = itemProblem(item, field);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** True when the runtime knows this IANA time zone (the same database Temporal's schedules use). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
