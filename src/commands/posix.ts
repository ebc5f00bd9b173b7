/** Generic read-only POSIX checks shared by every Linux flavour: sockets, file metadata, SSH reachability. */
import { command, KIB, MIB, SECOND, type CatalogueCommand } from './types.js';
import { absolutePath, boundedInt, port as portNumber, smtpHost, sshAlias, unixUser } from './validate.js';

export function listeningTcp(withProcesses: boolean): CatalogueCommand {
  return command({
    // -n: numeric ports (so "25", not "smtp"); -p needs privileges to name other users' processes.
    argv: ['ss', withProcesses ? '-tlnp' : '-tln'],
    timeoutMs: 15 * SECOND,
    maxOutputBytes: 512 * KIB,
    stateChanging: false,
    description: `List listening TCP sockets${withProcesses ? ' with their processes' : ''} (ss)`,
  });
}

/**
 * File mode, owner and type, for the SSH key check. Output: "<octal mode> <uid> <gid> <user> <group> <type>"
 * (see parsers/stat.ts). No -L: a symlinked key is reported as a link, itself a finding.
 */
export const STAT_FORMAT = '%a %u %g %U %G %F';

export function fileStat(path: string, field = 'key path'): CatalogueCommand {
  const p = absolutePath(path, field);
  return command({
    argv: ['stat', '-c', STAT_FORMAT, '--', p],
    timeoutMs: 10 * SECOND,
    maxOutputBytes: 4 * KIB,
    stateChanging: false,
    description: `Show mode and owner of ${p} (stat)`,
  });
}

export interface SshEchoOptions {
  /** ssh_config file that defines the alias (HostName, User, IdentityFile, UserKnownHostsFile); default ~/.ssh/config. */
  readonly configPath?: string;
  readonly alias: string;
  readonly connectTimeoutSeconds?: number;
}

/**
 * `ssh ... echo OK` from the mail server to the relay. BatchMode forbids password prompts and
 * StrictHostKeyChecking=yes overrides any "no" in the config file (the first value ssh sees wins, and the
 * command line comes first): an unknown or changed host key fails the check instead of being trusted.
 */
export function sshEcho(options: SshEchoOptions): CatalogueCommand {
  const config =
    options.configPath === undefined ? undefined : absolutePath(options.configPath, 'ssh config path');
  const alias = sshAlias(options.alias);
  const connectTimeout = Math.max(1, Math.min(60, Math.trunc(options.connectTimeoutSeconds ?? 10)));
  return command({
    argv: [
      'ssh',
      ...(config === undefined ? [] : ['-F', config]),
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `ConnectTimeout=${connectTimeout}`,
      '--',
      alias,
      'echo',
      'OK',
    ],
    timeoutMs: (connectTimeout + 10) * SECOND,
    maxOutputBytes: 16 * KIB,
    stateChanging: false,
    description: `Check that SSH to '${alias}' works non-interactively (ssh${config === undefined ? '' : ` -F ${config}`} ${alias} echo OK)`,
  });
}

/** Upper bound for log tails: enough for a diagnosis, small enough for evidence. */
export const MAX_TAIL_LINES = 5000;

export function tailFile(path: string, lines: number, label: string): CatalogueCommand {
  const p = absolutePath(path, `${label} path`);
  const n = boundedInt(lines, 1, MAX_TAIL_LINES, 'lines');
  return command({
    argv: ['tail', '-n', String(n), '--', p],
    timeoutMs: 15 * SECOND,
    // ~2 KiB per line is generous for mail logs; the cap keeps a runaway line from filling memory.
    maxOutputBytes: Math.min(n * 2 * KIB, 8 * MIB),
    stateChanging: false,
    description: `Last ${n} lines of ${label} (${p})`,
  });
}

/** Restricts a private key to its owner (what ssh demands). State-changing: behind approval. */
export function restrictKeyMode(path: string): CatalogueCommand {
  const p = absolutePath(path, 'key path');
  return command({
    argv: ['chmod', '0600', '--', p],
    timeoutMs: 10 * SECOND,
    maxOutputBytes: 4 * KIB,
    stateChanging: true,
    description: `Restrict ${p} to its owner (chmod 0600)`,
  });
}

/** Gives a file to the user that must own it (ssh refuses a key owned by someone else). */
export function setOwner(path: string, owner: string): CatalogueCommand {
  const p = absolutePath(path, 'key path');
  const user = unixUser(owner);
  return command({
    argv: ['chown', '--', user, p],
    timeoutMs: 10 * SECOND,
    maxOutputBytes: 4 * KIB,
    stateChanging: true,
    description: `Give ${p} to ${user} (chown)`,
  });
}

/** How the probe speaks TLS: not at all, STARTTLS when offered, or implicit TLS from the first byte (SMTPS). */
export type SmtpProbeTls = 'none' | 'may' | 'implicit';

const PROBE_TLS: Record<SmtpProbeTls, { argv: string[]; says: string }> = {
  // -l none: greeting and EHLO only; -l may: STARTTLS when offered, then EHLO again (the AUTH offered
  // over TLS); -w: wrapper mode, TLS before the greeting, which needs a level of encrypt or above.
  none: { argv: ['-l', 'none'], says: '' },
  may: { argv: ['-l', 'may'], says: ', STARTTLS' },
  implicit: { argv: ['-w', '-l', 'encrypt'], says: ', implicit TLS' },
};

/**
 * Talks SMTP to a server the way Postfix's smtp client would, from the host that sends through it
 * (posttls-finger ships with Postfix): greeting, EHLO and, where offered, the TLS handshake. A relay that
 * accepts TCP but never answers fails here even though its port "listens".
 */
export function smtpProbe(
  host: string,
  port: number,
  timeoutSeconds = 10,
  tls: SmtpProbeTls = 'none',
): CatalogueCommand {
  const h = smtpHost(host);
  const p = portNumber(port, 'relay port');
  const t = boundedInt(timeoutSeconds, 1, 60, 'timeout seconds');
  const mode = PROBE_TLS[tls];
  return command({
    // dnssec_probe= stops the probe's own DNS query for the root zone.
    argv: [
      'posttls-finger',
      ...mode.argv,
      '-o',
      'dnssec_probe=',
      '-t',
      String(t),
      '-T',
      String(t),
      `[${h}]:${p}`,
    ],
    timeoutMs: (3 * t + 5) * SECOND,
    maxOutputBytes: 64 * KIB,
    stateChanging: false,
    description: `Talk SMTP to [${h}]:${p} like Postfix would (posttls-finger${mode.says})`,
    // posttls-finger exits 0 even when the session failed: parsers/smtp-probe.ts reads the verdict.
    okExitCodes: [0, 1],
  });
}

/**
 * Reads a small file that holds secrets (a SASL password map). Read only; its output must stay in the
 * activity: never in evidence, logs or errors.
 */
export function readSecretFile(path: string): CatalogueCommand {
  const p = absolutePath(path, 'file');
  return command({
    argv: ['cat', '--', p],
    timeoutMs: 10 * SECOND,
    maxOutputBytes: 256 * KIB,
    stateChanging: false,
    description: `Read ${p} (kept out of evidence)`,
  });
}

/** The file writeNewFile writes and replaceFile moves into place. */
const newFileOf = (path: string): string => `${path}.mrb-new`;

/**
 * Fixed scripts (positional arguments only, never pasted input). WRITE_NEW: a new file created 0600 (umask
 * 077, an earlier leftover removed first) before any byte of the content is written into it; removed again
 * if the write fails. REPLACE: the new file takes the original's owner and mode (both read with stat), then
 * moves over it in one rename.
 */
const WRITE_NEW_SCRIPT =
  'umask 077; new="$1.mrb-new"; rm -f -- "$new" && : > "$new" && chmod 0600 -- "$new" || exit 1; ' +
  'cat > "$new" || { rm -f -- "$new"; exit 1; }';
const REPLACE_SCRIPT =
  'new="$1.mrb-new"; owner=$(stat -c %u:%g -- "$1") && mode=$(stat -c %a -- "$1") && ' +
  'chown -- "$owner" "$new" && chmod -- "$mode" "$new" && mv -f -- "$new" "$1"';

/**
 * Writes standard input to a new file next to `path` ("<path>.mrb-new"), which replaceFile then moves into
 * place: a reader never sees half a file. The file is 0600 before the content goes in (it holds secrets);
 * nothing is written to stdout, so the content stays out of output.
 */
export function writeNewFile(path: string, content: string): CatalogueCommand {
  const p = absolutePath(path, 'file');
  return command({
    argv: ['sh', '-c', WRITE_NEW_SCRIPT, 'mrb-write-new', p],
    stdin: content,
    timeoutMs: 10 * SECOND,
    maxOutputBytes: 4 * KIB,
    stateChanging: true,
    description: `Write the new ${p} beside it (${newFileOf(p)}, created 0600)`,
  });
}

/** Moves "<path>.mrb-new" (from writeNewFile) over `path`, with the original's owner and mode. */
export function replaceFile(path: string): CatalogueCommand[] {
  const p = absolutePath(path, 'file');
  return [
    command({
      argv: ['sh', '-c', REPLACE_SCRIPT, 'mrb-replace', p],
      timeoutMs: 10 * SECOND,
      maxOutputBytes: 4 * KIB,
      stateChanging: true,
      description: `Put the new ${p} in place with the original's owner and mode (stat, chown, chmod, mv)`,
    }),
  ];
}

/** Removes a leftover "<path>.mrb-new" after a failed rewrite (nothing there is fine). */
export function removeNewFile(path: string): CatalogueCommand {
  const p = absolutePath(path, 'file');
  return command({
    argv: ['rm', '-f', '--', newFileOf(p)],
    timeoutMs: 10 * SECOND,
    maxOutputBytes: 4 * KIB,
    stateChanging: true,
    description: `Remove the leftover ${newFileOf(p)}`,
  });
}

/** Seconds since a process started (`ps -o etimes=`); empty output and exit 1 when it does not exist. */
export function processAge(pid: number): CatalogueCommand {
  const p = boundedInt(pid, 1, 2 ** 31 - 1, 'pid');
  return command({
    argv: ['ps', '-o', 'etimes=', '-p', String(p)],
    timeoutMs: 10 * SECOND,
    maxOutputBytes: 4 * KIB,
    stateChanging: false,
    description: `Show how long process ${p} has run (ps -o etimes=)`,
    okExitCodes: [0, 1],
  });
}
