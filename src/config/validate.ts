/**
 * Validates parsed YAML against the schema and turns every issue into a problem an operator can act on:
 * a readable path (targets.lab.relay.ssh.port) and a message that never repeats a value from a position
 * where a secret could be (type errors name only the type found).
 */
import type { z } from 'zod';
import { show } from './fields.js';
import { crossFieldIssues } from './rules.js';
import { configSchema, type Config } from './schema.js';

export type RawPath = readonly (string | number)[];

export interface Problem {
  /** Path in the parsed document, as indices and keys (for locating it in the YAML). */
  path: RawPath;
  message: string;
}

export type Validation = { ok: true; config: Config } | { ok: false; problems: Problem[] };

const EXPECTED: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function kindOf(value: unknown): string {
  if (value === null) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'boolean') return 'true/false';
  return `a ${typeof value}`;
}

/** Messages for the issues the field types leave to the defaults. */
const errorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'missing (required)';
      return `expected ${EXPECTED[iss.expected] ?? iss.expected}, got ${kindOf(iss.input)}`;
    case 'invalid_value':
      return `must be ${iss.values.map((v) => show(v)).join(' or ')}, got ${show(iss.input)}`;
    case 'invalid_union': {
      if (!('discriminator' in iss) || typeof iss.discriminator !== 'string')
        return 'does not match any allowed form';
      const input: unknown = iss.input;
      const found = typeof input === 'object' && input !== null ? Object.entries(input) : [];
      const value: unknown = found.find(([k]) => k === iss.discriminator)?.[1];
      const options = Array.isArray(iss.options) ? iss.options.map((o) => show(o)).join(' or ') : '';
      return value === undefined
        ? `missing (required): ${options}`
        : `unknown ${iss.discriminator} ${show(value)}; expected ${options}`;
    }
    default:
      return undefined;
  }
};

function toProblems(issues: readonly z.core.$ZodIssue[]): Problem[] {
  return issues.map((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    // One unknown key: point at the key itself, so the position is its line.
    if (issue.code === 'unrecognized_keys' && issue.keys.length === 1 && issue.keys[0] !== undefined) {
      return { path: [...path, issue.keys[0]], message: issue.message };
    }
    // A bad record key (a label name): zod's path already ends with the key; the inner issue says why.
    if (issue.code === 'invalid_key') return { path, message: issue.issues[0]?.message ?? 'invalid key' };
    return { path, message: issue.message };
  });
}

export function validateConfig(raw: unknown): Validation {
  const result = configSchema.safeParse(raw, { error: errorMap });
  if (result.success) return { ok: true, config: result.data };
  const problems = toProblems(result.error.issues);
  // The cross-field rules ran only if the structure was valid: run them on the raw input too, once.
  const seen = new Set(problems.map((p) => `${p.path.join('\0')}\n${p.message}`));
  for (const issue of crossFieldIssues(raw)) {
    if (!seen.has(`${issue.path.join('\0')}\n${issue.message}`)) problems.push(issue);
  }
  return { ok: false, problems };
}

const SAFE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function nameAt(list: readonly unknown[], index: number): string | undefined {
  const item: unknown = list[index];
  if (typeof item !== 'object' || item === null || !('name' in item)) return undefined;
  const name = item.name;
  if (typeof name !== 'string' || !SAFE_NAME.test(name)) return undefined;
  const same = list.filter((x) => typeof x === 'object' && x !== null && 'name' in x && x.name === name);
  return same.length === 1 ? name : undefined;
}

/**
 * `targets.lab.relay.ssh.port`: list entries with a unique valid `name` (targets, schedules) are shown by
 * name, others by index (`alerts.routes[0]`, or `targets[1]` for a duplicate name).
 */
export function displayPath(path: RawPath, document: unknown): string {
  let node: unknown = document;
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') {
      const list: readonly unknown[] = Array.isArray(node) ? node : [];
      const name = nameAt(list, segment);
      out += name === undefined ? `[${segment}]` : `${out ? '.' : ''}${name}`;
      node = list[segment];
    } else {
      const key = PLAIN_KEY.test(segment) ? segment : `[${JSON.stringify(segment)}]`;
      out += out && !key.startsWith('[') ? `.${key}` : key;
      node =
        typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return out;
}
