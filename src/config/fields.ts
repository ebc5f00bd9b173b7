/**
 * Field types shared by the config schema. Each carries its own error message, because the operator reads
 * them while fixing a file: the message says what is allowed and (outside secret positions) what was found.
 * Names that end up in argument vectors (containers, services, users) start with a letter or digit, so
 * they can never be taken for an option, and use no shell metacharacters.
 */
import { z } from 'zod';
import { readPublicKey } from '../approval/keys.js';
import { APPROVER_NAME } from '../shared/approval.js';
import { cronProblem, isTimeZone } from './cron.js';

export const INLINE_SECRET = 'secret given inline; use { env: NAME } or { file: PATH }';

/** A found value for a message: short and quoted. Never called on values in secret positions. */
export function show(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'nothing';
  return Array.isArray(value) ? 'a list' : `a ${typeof value === 'object' ? 'mapping' : typeof value}`;
}

/** Edit distance counting a swap of neighbours as one edit ("prot" is one away from "port"). */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Infinity;
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      const row = d[i];
      if (row) row[j] = best;
    }
  }
  return at(x.length, y.length);
}

/** `unknown key "prot"; did you mean "port"?`, or the allowed keys when nothing is close. */
export function unknownKeysMessage(keys: readonly string[], known: readonly string[]): string {
  const parts = keys.map((key) => {
    const best = known
      .map((k) => ({ k, d: distance(key, k) }))
      .sort((x, y) => x.d - y.d)
      .find((c) => c.d <= Math.max(1, Math.floor(c.k.length / 3)));
    return best ? `unknown key ${show(key)}; did you mean ${show(best.k)}?` : `unknown key ${show(key)}`;
  });
  return `${parts.join(', ')} (allowed: ${known.join(', ')})`;
}

/** What an object's errors add for the reader: why it is required, or what an unknown key means here. */
export interface StrictHints {
  /** Replaces "missing (required)" when the whole object is left out. */
  missing?: string;
  /** Appended to the unknown-key message when one of these keys is given. */
  unknownKeys?: Readonly<Record<string, string>>;
}

/** An object that rejects unknown keys, naming them (typos must not be silently ignored). */
export function strict<T extends z.core.$ZodLooseShape>(shape: T, hints: StrictHints = {}) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === 'unrecognized_keys') {
        const hint = iss.keys.map((k) => hints.unknownKeys?.[k]).find((h) => h !== undefined);
        return `${unknownKeysMessage(iss.keys, known)}${hint ? `: ${hint}` : ''}`;
      }
      if (iss.code === 'invalid_type' && iss.input === undefined && hints.missing) return hints.missing;
      return undefined;
    },
  });
}

/**
 * A string that must match `re`; `rule` completes "<found> ..." in the message, `format` names the type in
 * the generated reference.
 */
function matching(re: RegExp, rule: string, format: string) {
  return z
    .string()
    .regex(re, { error: (iss) => `${show(iss.input)} ${rule}` })
    .meta({ format });
}

export const targetName = matching(
  /^[a-z0-9][a-z0-9._-]{0,62}$/,
  'is not a valid name: use a-z 0-9 . _ - (lower case, starting with a letter or digit, at most 63)',
  'name (a-z 0-9 . _ -, up to 63)',
);
/** A target label's key or value (fleet selection: `--targets label=site=eu`). */
export const labelPart = matching(
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
  'is not a valid label key or value: use letters, digits, . _ - (starting with a letter or digit, at most 63)',
  'label (letters, digits, . _ -, up to 63)',
);
/** A schedule's targets given as a selection rather than a list: `all` or `label=<key>=<value>`. */
export const targetSelection = matching(
  /^(all|label=[A-Za-z0-9][A-Za-z0-9._-]{0,62}=[A-Za-z0-9][A-Za-z0-9._-]{0,62})$/,
  'is not a target selection: use all, label=<key>=<value>, or a list of target names',
  'all | label=<key>=<value>',
);
export const containerName = matching(
  /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/,
  'is not a valid container name: use letters, digits, _ . - (starting with a letter or digit)',
  'container name (letters, digits, _ . -)',
);
export const unitName = matching(
  /^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,127}$/,
  'is not a valid service name: use letters, digits, _ . @ : - (starting with a letter or digit)',
  'service name (letters, digits, _ . @ : -)',
);
export const taskName = matching(
  /^[A-Za-z0-9](?:[A-Za-z0-9 ._-]{0,126}[A-Za-z0-9._-])?$/,
  'is not a valid task name: use letters, digits, spaces, _ . - (starting with a letter or digit)',
  'task name (letters, digits, space, _ . -)',
);
export const processName = matching(
  /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
  'is not a valid process name: use letters, digits, _ . -',
  'process name (letters, digits, _ . -)',
);
export const unixUser = matching(
  /^[a-z_][a-z0-9_-]{0,31}$/,
  'is not a valid user name: use a-z 0-9 _ - (starting with a letter or _)',
  'user name (a-z 0-9 _ -)',
);
export const sshUser = matching(
  /^[A-Za-z0-9_][A-Za-z0-9._@-]{0,63}$/,
  'is not a valid SSH user name: use letters, digits, . _ @ -',
  'user name (letters, digits, . _ @ -)',
);
export const hostAlias = matching(
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
  'is not a valid SSH host alias: use letters, digits, . _ -',
  'SSH host alias (letters, digits, . _ -)',
);
export const dkimSelector = matching(
  /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/,
  'is not a DKIM selector: DNS labels of letters, digits and -',
  'DKIM selector (DNS labels)',
);

export const stepName = matching(
  /^[a-z0-9][a-z0-9-]{0,62}$/,
  'is not a valid step name: use a-z 0-9 - (kebab-case, as in flush-queue)',
  'step name (kebab-case)',
);
export const approverName = matching(
  APPROVER_NAME,
  'is not a valid approver name: use letters, digits, . _ @ + - (starting with a letter or digit, at most 64)',
  'approver name (letters, digits, . _ @ + -)',
);

/** How an approval policy names a group of approvers defined once under approverGroups. */
export const GROUP_PREFIX = 'group:';

/** An approver name, or `group:<name>` for every member of a group. */
export const approverRef = z
  .string()
  .refine((v) => APPROVER_NAME.test(v.startsWith(GROUP_PREFIX) ? v.slice(GROUP_PREFIX.length) : v), {
    error: (iss) =>
      `${show(iss.input)} is not an approver name or "${GROUP_PREFIX}<name>": use letters, digits, . _ @ + -`,
  })
  .meta({ format: `approver name or ${GROUP_PREFIX}<group>` });

/**
 * An approver's OpenSSH ed25519 public key line. The message never repeats the value: a private key
 * pasted here by mistake is a secret.
 */
export const approverPublicKey = z
  .string()
  .superRefine((value, ctx) => {
    const read = readPublicKey(value);
    if (!read.ok) ctx.addIssue({ code: 'custom', message: `the key ${read.problem}` });
  })
  .meta({ format: 'OpenSSH ed25519 public key line' });

export const labelName = matching(
  /^[A-Za-z_][A-Za-z0-9_]{0,127}$/,
  'is not a valid Prometheus label name: use letters, digits, _',
  'label name (letters, digits, _)',
);
export const envName = matching(
  /^[A-Za-z_][A-Za-z0-9_]{0,127}$/,
  'is not a valid environment variable name: use letters, digits, _ (not starting with a digit)',
  'environment variable name',
);

/** Free text sent over a protocol (SMTP user, IMAP mailbox): no control characters, which could split lines. */
export const text = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(256, { error: 'must be at most 256 characters' })
  .regex(/^\P{Cc}*$/u, { error: 'must not contain control characters' })
  .meta({ format: 'text (no control characters)' });

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`);
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A DNS name or an IP literal (IPv6 without brackets). All-numeric names must be valid IPv4. */
export function isHost(value: string): boolean {
  if (IPV4.test(value) || z.regexes.ipv6.test(value)) return true;
  return !/^[\d.]+$/.test(value) && HOSTNAME.test(value);
}

export const host = z
  .string()
  .refine(isHost, { error: (iss) => `${show(iss.input)} is not a hostname or IP address (IPv6 without [])` })
  .meta({ format: 'hostname or IP address' });

export const email = z
  .string()
  .refine(
    (value) => {
      const at = value.lastIndexOf('@');
      return at > 0 && /^[^\s@<>()[\]\\,;:"]{1,64}$/.test(value.slice(0, at)) && isHost(value.slice(at + 1));
    },
    { error: (iss) => `${show(iss.input)} is not a mail address like user@example.org` },
  )
  .meta({ format: 'mail address' });

function wholeNumber(min: number, max: number, what: string) {
  const message = (iss: { input?: unknown }) => {
    if (iss.input === undefined) return undefined;
    // YAML quotes make text of a number ('2526'): say so, or "got 2526" would look like a valid value.
    const found = typeof iss.input === 'string' ? `text ${show(iss.input)}` : show(iss.input);
    return `must be ${what} ${min}-${max}, got ${found}`;
  };
  return z.int({ error: message }).min(min, { error: message }).max(max, { error: message });
}

export const port = wholeNumber(1, 65535, 'a port number');
export const seconds = (min: number, max: number) => wholeNumber(min, max, 'a number of seconds');
export const count = (min: number, max: number) => wholeNumber(min, max, 'a whole number');

/** An absolute POSIX path: inside a container or on a Linux host, where there is no working folder to resolve against. */
export const posixPath = z
  .string()
  .regex(/^\//, { error: (iss) => `${show(iss.input)} must be an absolute path (starting with /)` })
  .regex(/^\P{Cc}*$/u, { error: 'must not contain control characters' })
  .refine((p) => !p.split('/').includes('..'), { error: 'must not contain ".." segments' })
  .meta({ format: 'absolute path (/...)' });

export const windowsPath = z
  .string()
  .regex(/^(?:[A-Za-z]:[\\/]|\\\\[^\\/]+[\\/])/, {
    error: (iss) => `${show(iss.input)} must be an absolute Windows path like C:\\relay\\relay.log`,
  })
  .regex(/^[^\p{Cc}"]*$/u, { error: 'must not contain control characters or quotes' })
  .refine((p) => !p.split(/[\\/]/).includes('..'), { error: 'must not contain ".." segments' })
  .meta({ format: 'absolute Windows path (C:\\...)' });

export const fingerprint = z
  .string()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, {
    error: (iss) =>
      `${show(iss.input)} is not an OpenSSH host key fingerprint: expected "SHA256:" and 43 base64 characters` +
      ' (ssh-keyscan -t ed25519 HOST | ssh-keygen -lf -)',
  })
  // 256 bits in 43 characters leave the last one only 4 significant bits: anything else is a typo.
  .regex(/[AEIMQUYcgkosw048]$/, { error: 'is not a valid SHA256 fingerprint (last character mistyped?)' })
  .meta({ format: 'SHA256 host key fingerprint' });

export const httpUrl = z
  .url({
    protocol: /^https?$/,
    error: (iss) => `${show(iss.input)} is not an http(s) URL`,
  })
  .meta({ format: 'http(s) URL' });

export const cron = z
  .string()
  .superRefine((value, ctx) => {
    const problem = cronProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `invalid cron ${show(value)}: ${problem}` });
  })
  .meta({ format: 'cron expression' });

export const timeZone = z
  .string()
  .refine(isTimeZone, {
    error: (iss) => `${show(iss.input)} is not an IANA time zone like UTC or Europe/Paris`,
  })
  .meta({ format: 'IANA time zone' });

function secretRefProblem(input: unknown): string {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return INLINE_SECRET;
  const keys = Object.keys(input);
  if (keys.length === 0) return 'empty secret reference; use { env: NAME } or { file: PATH }';
  if (keys.includes('env') && keys.includes('file')) return 'give either env or file, not both';
  const extra = keys.filter((k) => k !== 'env' && k !== 'file');
  return extra.length > 0
    ? `${unknownKeysMessage(extra, ['env', 'file'])}; use { env: NAME } or { file: PATH }`
    : 'use { env: NAME } or { file: PATH }';
}

/**
 * A secret is a reference, never a value: the config file is often committed or shared, and values
 * must not reach workflow history or logs. The message for a failed reference never repeats the input.
 */
export const secretRef = z
  .union(
    [
      z.strictObject({ env: envName.describe('environment variable of the worker holding the secret') }),
      z.strictObject({
        file: z
          .string()
          .min(1, { error: 'must be a file path' })
          .describe('file holding the secret; relative to the config file folder'),
      }),
    ],
    { error: (iss) => (iss.code === 'invalid_union' ? secretRefProblem(iss.input) : undefined) },
  )
  .meta({ format: 'secret reference' });

export type SecretRef = z.infer<typeof secretRef>;
