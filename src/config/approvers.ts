/** Approver references in approval policies: a name, or `group:<name>` for the members of a group. */
import { GROUP_PREFIX } from './fields.js';

export type ApproverGroups = Readonly<Record<string, readonly (string | undefined)[]>>;

/** The group a reference names, or undefined for a plain approver name. */
export function groupOf(ref: string): string | undefined {
  return ref.startsWith(GROUP_PREFIX) ? ref.slice(GROUP_PREFIX.length) : undefined;
}

/** A record's own entry (names such as "constructor" must not find Object.prototype's members). */
export function own<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * The distinct approver names that references stand for, in order of first mention. An unknown group
 * stands for nobody (validation reports it).
 */
export function expandApprovers(refs: readonly string[], groups: ApproverGroups): string[] {
  const names = refs.flatMap((ref) => {
    const group = groupOf(ref);
    return group === undefined ? [ref] : (own(groups, group) ?? []);
  });
  return [...new Set(names.filter((n): n is string => typeof n === 'string'))];
}
