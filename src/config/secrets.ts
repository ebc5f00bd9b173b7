/**
 * Secret references: `{ env: NAME }` reads the worker's environment, `{ file: PATH }` reads a file. Errors
 * name the reference (variable name, file path) and never the value, since they end up in logs and in
 * workflow failures.
 */
import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config, SecretRef } from './schema.js';
import { displayPath, type RawPath } from './validate.js';

/** Secrets are small (keys, tokens, CA bundles); a bigger file is a wrong path, not a secret. */
const MAX_SECRET_BYTES = 1024 * 1024;

export class SecretError extends Error {
  override name = 'SecretError';
  constructor(
    /** The reference, e.g. `env MRB_TOKEN` or `file /etc/mrb/key`: safe to show. */
    readonly reference: string,
    message: string,
  ) {
    super(message);
  }
}

export function describeRef(ref: SecretRef, baseDir?: string): string {
  if ('env' in ref) return `env ${ref.env}`;
  return `file ${baseDir === undefined ? ref.file : resolve(baseDir, ref.file)}`;
}

function fileProblem(err: unknown): string {
  const code = err instanceof Error && 'code' in err ? err.code : undefined;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'is not readable by this user';
  return `cannot be read (${typeof code === 'string' ? code : 'unknown error'})`;
}

async function readSecretFile(path: string): Promise<string> {
  const reference = `file ${path}`;
  let info: Stats;
  try {
    info = await stat(path);
  } catch (err) {
    throw new SecretError(reference, `secret file ${path} ${fileProblem(err)}`);
  }
  if (!info.isFile()) throw new SecretError(reference, `secret file ${path} is not a regular file`);
  if (info.size > MAX_SECRET_BYTES) {
    throw new SecretError(reference, `secret file ${path} is larger than 1 MiB; wrong path?`);
  }
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new SecretError(reference, `secret file ${path} ${fileProblem(err)}`);
  }
}

/**
 * The secret's value, without the trailing newline(s) editors and `echo` add. Relative file paths resolve
 * against `baseDir` (the config file's folder; loadConfig has already made them absolute).
 */
export async function resolveSecret(
  ref: SecretRef,
  baseDir: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  let value: string;
  if ('env' in ref) {
    const found = env[ref.env];
    if (found === undefined)
      throw new SecretError(`env ${ref.env}`, `environment variable ${ref.env} is not set`);
    value = found;
  } else {
    value = await readSecretFile(resolve(baseDir, ref.file));
  }
  value = value.replace(/[\r\n]+$/, '');
  if (value === '') throw new SecretError(describeRef(ref, baseDir), `${describeRef(ref, baseDir)} is empty`);
  return value;
}

function isSecretRef(node: object): node is SecretRef {
  const keys = Object.keys(node);
  if (keys.length !== 1) return false;
  const [key] = keys;
  return (key === 'env' || key === 'file') && typeof Object.values(node)[0] === 'string';
}

/**
 * Alert label maps (`alerts.routes[].match`) are the only free-form mappings in the schema: a label named
 * `env` or `file` there is not a secret reference.
 */
const FREE_FORM_KEYS = new Set(['match']);

/**
 * Every secret reference in a validated config, with its path. All other objects are strict, so the only
 * ones with exactly one `env` or `file` string are secret references.
 */
export function listSecretRefs(config: Config): { path: RawPath; ref: SecretRef }[] {
  const found: { path: RawPath; ref: SecretRef }[] = [];
  const walk = (node: unknown, path: (string | number)[]): void => {
    if (typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) {
      node.forEach((item: unknown, i) => walk(item, [...path, i]));
    } else if (isSecretRef(node)) {
      found.push({ path, ref: node });
    } else {
      for (const [key, value] of Object.entries(node)) {
        if (!FREE_FORM_KEYS.has(key)) walk(value, [...path, key]);
      }
    }
  };
  walk(config, []);
  return found;
}

export interface SecretCheck {
  /** Where in the config, e.g. `targets.lab.relay.ssh.privateKey`. */
  path: string;
  /** `env NAME` or `file /abs/path`. */
  reference: string;
  ok: boolean;
  problem?: string;
  /** Resolvable but unsafe, e.g. a key file readable by others. */
  warning?: string;
}

/** Certificates are public; other files are keys, passwords or tokens and should be private. */
const PUBLIC_KEYS = new Set(['ca', 'cert']);

async function permissionWarning(path: string): Promise<string | undefined> {
  if (process.platform === 'win32') return undefined;
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  return `secret file ${path} is accessible to group or others (mode ${mode.toString(8).padStart(4, '0')}); chmod 600`;
}

/** Tries every reference (values are read and dropped), for `config check`. */
export async function checkSecrets(
  config: Config,
  options: { baseDir?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<SecretCheck[]> {
  const baseDir = options.baseDir ?? process.cwd();
  const checks: SecretCheck[] = [];
  for (const { path, ref } of listSecretRefs(config)) {
    const check: SecretCheck = {
      path: displayPath(path, config),
      reference: describeRef(ref, baseDir),
      ok: true,
    };
    try {
      await resolveSecret(ref, baseDir, options.env);
      if ('file' in ref && !PUBLIC_KEYS.has(String(path.at(-1)))) {
        const warning = await permissionWarning(resolve(baseDir, ref.file));
        if (warning) check.warning = warning;
      }
    } catch (err) {
      check.ok = false;
      check.problem = err instanceof SecretError ? err.message : 'cannot be resolved';
    }
    checks.push(check);
  }
  return checks;
}
