/**
 * Cross-field rules: names that must be unique or must refer to an existing target. They read a tolerant
 * view of the input, so they are reported together with structural mistakes elsewhere in the file (zod
 * skips an object's refinements once anything inside it failed).
 */
import { z } from 'zod';

export interface RuleIssue {
  path: (string | number)[];
  message: string;
}

// Anything of the wrong shape reads as "absent": the structural schema reports it already.
const name = z.string().optional().catch(undefined);
const view = z
  .object({
    defaultTarget: name,
    targets: z.array(z.object({ name }).catch({})).catch([]),
    alerts: z
      .object({ routes: z.array(z.object({ target: name }).catch({})).catch([]) })
      .optional()
      .catch(undefined),
    schedules: z.array(z.object({ name, targets: z.array(name).catch([]) }).catch({ targets: [] })).catch([]),
  })
  .catch({ targets: [], schedules: [] });

/** Index of the first earlier entry with the same name, for "duplicate" messages. */
function duplicates(names: (string | undefined)[], where: string, prefix: (string | number)[]): RuleIssue[] {
  const first = new Map<string, number>();
  const issues: RuleIssue[] = [];
  names.forEach((n, i) => {
    if (n === undefined) return;
    const seen = first.get(n);
    if (seen === undefined) first.set(n, i);
    else
      issues.push({
        path: [...prefix, i, 'name'],
        message: `duplicate name "${n}" (also ${where}[${seen}])`,
      });
  });
  return issues;
}

export function crossFieldIssues(input: unknown): RuleIssue[] {
  const config = view.parse(input);
  const targetNames = config.targets.map((t) => t.name);
  const known = new Set(targetNames.filter((n) => n !== undefined));
  const list = [...known].join(', ');
  const unknownTarget = (n: string) => `"${n}" is not a target name; targets: ${list}`;
  const issues = [
    ...duplicates(targetNames, 'targets', ['targets']),
    ...duplicates(
      config.schedules.map((s) => s.name),
      'schedules',
      ['schedules'],
    ),
  ];
  // With no valid target names at all the "targets" error says enough.
  if (known.size === 0) return issues;

  if (config.defaultTarget !== undefined && !known.has(config.defaultTarget)) {
    issues.push({ path: ['defaultTarget'], message: unknownTarget(config.defaultTarget) });
  }
  config.alerts?.routes.forEach((route, i) => {
    if (route.target !== undefined && !known.has(route.target)) {
      issues.push({ path: ['alerts', 'routes', i, 'target'], message: unknownTarget(route.target) });
    }
  });
  config.schedules.forEach((schedule, i) => {
    schedule.targets.forEach((target, k) => {
      if (target !== undefined && !known.has(target)) {
        issues.push({ path: ['schedules', i, 'targets', k], message: unknownTarget(target) });
      }
    });
  });
  return issues;
}
