/**
 * Input validation for the catalogue. Everything that reaches an argv passes one of these checks, so a
 * value from an alert, a user or the config cannot become an option (leading '-'), a second command or a
 * path outside what was meant. Errors name the field and say what is accepted.
 */
import { CommandInputError } from './types.js';

// Postfix queue ids: short ids are upper-case hex (>= 6), long ids (enable_long_queue_ids) use a
// 52-letter alphabet without vowels, >= 10 characters. The upper bound only stops absurd input.
const SHORT_QUEUE_ID = /^[0-9A-F]{6,20}$/;
const LONG_QUEUE_ID = /^[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,32}$/;

export const QUEUE_NAMES = ['maildrop', 'incoming', 'active', 'deferred', 'hold', 'corrupt'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export function isQueueId(value: string): boolean {
  return SHORT_QUEUE_ID.test(value) || LONG_QUEUE_ID.test(value);
}

export function queueId(value: string, field = 'queue id'): string {
  if (isQueueId(value)) return value;
  const hint = /^[0-9A-Za-z]+[*!#]$/.test(value)
    ? " (drop the status marker '*', '!' or '#' that postqueue -p appends)"
    : '';
  throw new CommandInputError(
    field,
    `'${printable(value)}' is not a Postfix queue id${hint}; expected 6+ upper-case hex characters or a 10+ character long id`,
  );
}

export function queueName(value: string, field = 'queue'): QueueName {
  const found = QUEUE_NAMES.find((q) => q === value);
  if (!found)
    throw new CommandInputError(field, `'${printable(value)}' is not one of ${QUEUE_NAMES.join(', ')}`);
  return found;
}

export function boundedInt(value: number, min: number, max: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new CommandInputError(field, `${String(value)} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

export function port(value: number, field = 'port'): number {
  return boundedInt(value, 1, 65535, field);
}

// Absolute POSIX paths from a deliberately small alphabet: no spaces, quotes, globs or control characters,
// and no '..' segments, so a path names exactly one file whatever runs it.
const POSIX_PATH = /^\/[A-Za-z0-9._@+=,:/-]*$/;

export function absolutePath(value: string, field = 'path'): string {
  if (value.length > 1024 || !POSIX_PATH.test(value)) {
    throw new CommandInputError(
      field,
      `'${printable(value)}' must be an absolute path of letters, digits and . _ @ + = , : / - (max 1024)`,
    );
  }
  if (value.split('/').some((segment) => segment === '..')) {
    throw new CommandInputError(field, `'${printable(value)}' must not contain '..' segments`);
  }
  return value;
}

/** An ssh_config Host alias (never a raw user@host: the config file pins user, key and host key). */
export function sshAlias(value: string, field = 'ssh alias'): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,252}$/.test(value)) {
    throw new CommandInputError(
      field,
      `'${printable(value)}' must be an ssh_config Host alias: letters, digits, . _ - (not starting with - or .)`,
    );
  }
  return value;
}

/** A postconf parameter name (main.cf keys are lower-case words joined by '_'). */
export function postconfParameter(value: string, field = 'postconf parameter'): string {
  if (!/^[a-z][a-z0-9_]{0,99}$/.test(value)) {
    throw new CommandInputError(field, `'${printable(value)}' is not a postconf parameter name`);
  }
  return value;
}

/** A systemd unit name, e.g. "postfix", "postfix@-.service", "smtp-relay.service". */
export function systemdUnit(value: string, field = 'systemd unit'): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9:_.@\\-]{0,254}$/.test(value)) {
    throw new CommandInputError(field, `'${printable(value)}' is not a systemd unit name`);
  }
  return value;
}

/** A supervisord program name, optionally "group:name". */
export function supervisorProgramName(value: string, field = 'supervisord program'): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,99})?$/.test(value)) {
    throw new CommandInputError(field, `'${printable(value)}' is not a supervisord program name`);
  }
  return value;
}

/** A Unix user name (owner of a key file). */
export function unixUser(value: string, field = 'user'): string {
  if (!/^[a-z_][a-z0-9_.-]{0,31}$/.test(value)) {
    throw new CommandInputError(field, `'${printable(value)}' is not a Unix user name`);
  }
  return value;
}

/** A host name or IPv4/IPv6 address for an SMTP probe: no spaces, brackets or option-like leading '-'. */
export function smtpHost(value: string, field = 'host'): string {
  if (!/^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|[0-9A-Fa-f:.]{2,45})$/.test(value)) {
    throw new CommandInputError(field, `'${printable(value)}' is not a host name or address`);
  }
  return value;
}

/** Map types `postmap -q` may read: local files only (no proxy:, SQL, LDAP, sockets or inline: maps). */
export const POSTMAP_TYPES = ['hash', 'lmdb', 'btree', 'cdb', 'texthash', 'regexp', 'pcre', 'cidr'] as const;

/** A Postfix lookup table reference "type:/absolute/path" of a type in POSTMAP_TYPES. */
export function postfixMap(value: string, field = 'map'): string {
  const colon = value.indexOf(':');
  const type = colon > 0 ? value.slice(0, colon) : '';
  if (!POSTMAP_TYPES.some((t) => t === type)) {
    throw new CommandInputError(
      field,
      `'${printable(value)}' must be type:/absolute/path with type one of ${POSTMAP_TYPES.join(', ')}`,
    );
  }
  absolutePath(value.slice(colon + 1), field);
  return value;
}

const DOMAIN = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*';
const LOCAL_PART = "[A-Za-z0-9_!#$%&'*+/=?^`{|}~][A-Za-z0-9_!#$%&'*+/=?^`{|}~.-]{0,63}";
const POSTMAP_KEY = new RegExp(
  `^(?:${LOCAL_PART}@${DOMAIN}|@${DOMAIN}|${DOMAIN}(?::[0-9]{1,5})?|\\[(?:${DOMAIN}|[0-9A-Fa-f:.]{2,45})\\](?::[0-9]{1,5})?)$`,
);

/**
 * A lookup key for `postmap -q`: an address (user@domain), "@domain", a domain or host (optionally
 * ":port"), or a next hop "[host]" / "[host]:port". Nothing else: no spaces, no leading '-', max 320.
 */
export function postmapKey(value: string, field = 'lookup key'): string {
  if (value.length > 320 || !POSTMAP_KEY.test(value)) {
    throw new CommandInputError(
      field,
      `'${printable(value)}' must be an address, @domain, a domain or [host]:port`,
    );
  }
  return value;
}

/** Shows a rejected value safely in an error: control characters escaped, length capped. */
export function printable(value: string): string {
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  return shown.slice(1, -1);
}
