/**
 * Cross-field rules: names that must be unique or must refer to an existing target or approver, and
 * approval quorums that can be met. They read a tolerant
 * view of the input, so they are reported together with structural mistakes elsewhere in the file (zod
 * skips an object's refinements once anything inside it failed).
 */
import { z } from 'zod';
import { expandApprovers, groupOf, own, type ApproverGroups } from './approvers.js';
import { selectTargets } from './select-targets.js';

export interface RuleIssue {
  path: (string | number)[];
  message: string;
}

// Anything of the wrong shape reads as "absent": the structural schema reports it already.
const name = z.string().optional().catch(undefined);
const nameList = z.array(name);
const names = nameList.optional().catch(undefined);
const quorum = z.number().optional().catch(undefined);
const stepPolicy = z.object({ approvers: names, minApprovals: quorum }).catch({});
const approval = z
  .object({
    approvers: names,
    minApprovals: quorum,
    escalateTo: names,
    steps: z.record(z.string(), stepPolicy).optional().catch(undefined),
  })
  .optional()
  .catch(undefined);
const view = z
  .object({
    defaultTarget: name,
    targets: z
      .array(
        z
          .object({ name, approval, labels: z.record(z.string(), z.string()).optional().catch(undefined) })
          .catch({}),
      )
      .catch([]),
    approvers: z
      .record(z.string(), z.object({ publicKeys: names }).catch({}))
      .optional()
      .catch(undefined),
    approverGroups: z.record(z.string(), nameList.catch([])).optional().catch(undefined),
    alerts: z
      .object({ routes: z.array(z.object({ target: name }).catch({})).catch([]) })
      .optional()
      .catch(undefined),
    schedules: z
      .array(
        z.object({ name, targets: z.union([z.array(name), z.string()]).catch([]) }).catch({ targets: [] }),
      )
      .catch([]),
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

type View = z.infer<typeof view>;
type Path = (string | number)[];

/** Approver and group names that must exist; quorums no larger than the approvers named. */
function approverIssues(config: View): RuleIssue[] {
  const approvers = config.approvers ?? {};
  const groups: ApproverGroups = config.approverGroups ?? {};
  const approverList = Object.keys(approvers).join(', ') || 'none are defined';
  const groupList = Object.keys(groups).join(', ') || 'none are defined';
  const issues: RuleIssue[] = [];
  const unknownName = (n: string, path: Path) => {
    if (own(approvers, n) === undefined)
      issues.push({ path, message: `"${n}" is not an approver; approvers: ${approverList}` });
  };
  const checkRefs = (refs: (string | undefined)[] | undefined, path: Path) =>
    refs?.forEach((ref, i) => {
      if (ref === undefined) return;
      const group = groupOf(ref);
      if (group === undefined) unknownName(ref, [...path, i]);
      else if (own(groups, group) === undefined)
        issues.push({
          path: [...path, i],
          message: `"${group}" is not an approver group; approverGroups: ${groupList}`,
        });
    });
  const checkQuorum = (refs: (string | undefined)[] | undefined, min: number | undefined, path: Path) => {
    const named = expandApprovers(
      (refs ?? []).filter((r): r is string => r !== undefined),
      groups,
    ).filter((n) => own(approvers, n) !== undefined);
    // No approvers named means anyone authenticated: the quorum is checked when decisions come.
    if (min === undefined || named.length === 0 || min <= named.length) return;
    issues.push({
      path,
      message: `minApprovals ${min} is more than the ${named.length} approver(s) named (${named.join(', ')}): the quorum could never be met`,
    });
  };

  for (const [group, members] of Object.entries(groups)) {
    members.forEach((m, i) => m !== undefined && unknownName(m, ['approverGroups', group, i]));
  }
  // One key proves one person: the same key under two names would let one person fill a quorum alone.
  const keyOwner = new Map<string, string>();
  for (const [approver, { publicKeys }] of Object.entries(approvers)) {
    publicKeys?.forEach((line, i) => {
      const blob = line?.trim().split(/\s+/)[1];
      if (blob === undefined) return;
      const owner = keyOwner.get(blob);
      if (owner === undefined) keyOwner.set(blob, approver);
      else if (owner !== approver)
        issues.push({
          path: ['approvers', approver, 'publicKeys', i],
          message: `the same key is listed for approver ${owner}: each key must belong to one person`,
        });
    });
  }
  config.targets.forEach((target, t) => {
    const a = target.approval;
    if (!a) return;
    const at: Path = ['targets', t, 'approval'];
    checkRefs(a.approvers, [...at, 'approvers']);
    checkRefs(a.escalateTo, [...at, 'escalateTo']);
    checkQuorum(a.approvers, a.minApprovals ?? 1, [...at, 'minApprovals']);
    for (const [step, override] of Object.entries(a.steps ?? {})) {
      const stepAt: Path = [...at, 'steps', step];
      checkRefs(override.approvers, [...stepAt, 'approvers']);
      // The step's quorum, against the step's approvers (its own, else the target's).
      if (override.approvers !== undefined || override.minApprovals !== undefined)
        checkQuorum(override.approvers ?? a.approvers, override.minApprovals ?? a.minApprovals ?? 1, [
          ...stepAt,
          override.minApprovals !== undefined ? 'minApprovals' : 'approvers',
        ]);
    }
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
    ...approverIssues(config),
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
  const selectable = config.targets.flatMap((t) => (t.name === undefined ? [] : [{ ...t, name: t.name }]));
  config.schedules.forEach((schedule, i) => {
    if (typeof schedule.targets === 'string') {
      // A selection (`all`, `label=k=v`; its form is checked by the schema) must pick a target today.
      try {
        selectTargets({ targets: selectable }, schedule.targets);
      } catch (err) {
        issues.push({ path: ['schedules', i, 'targets'], message: (err as Error).message });
      }
      return;
    }
    schedule.targets.forEach((target, k) => {
      if (target !== undefined && !known.has(target)) {
        issues.push({ path: ['schedules', i, 'targets', k], message: unknownTarget(target) });
      }
    });
  });
  return issues;
}
