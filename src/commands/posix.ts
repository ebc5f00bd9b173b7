/** Generic read-only POSIX checks shared by every Linux flavour: sockets, file metadata, SSH reachability. */
import { command, KIB, MIB, SECOND, type CatalogueCommand } from './types.js';
import { absolutePath, boundedInt, sshAlias } from './validate.js';

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

export function fileStat(path: string): CatalogueCommand {
  const p = absolutePath(path, 'key path');
  return command({
    argv: ['stat', '-c', STAT_FORMAT, '--', p],
    timeoutMs: 10 * SECOND,
    maxOutputBytes: 4 * KIB,
    stateChanging: false,
    description: `Show mode and owner of ${p} (stat)`,
  });
}

export interface SshEchoOptions {
  /** ssh_config file that defines the alias (HostName, User, IdentityFile, UserKnownHostsFile). */
  readonly configPath: string;
  readonly alias: string;
  readonly connectTimeoutSeconds?: number;
}

/**
 * `ssh ... echo OK` from the mail server to the relay. BatchMode forbids password prompts and
 * StrictHostKeyChecking=yes overrides any "no" in the config file (the first value ssh sees wins, and the
 * command line comes first): an unknown or changed host key fails the check instead of being trusted.
 */
export function sshEcho(options: SshEchoOptions): CatalogueCommand {
  const config = absolutePath(options.configPath, 'ssh config path');
  const alias = sshAlias(options.alias);
  const connectTimeout = Math.max(1, Math.min(60, Math.trunc(options.connectTimeoutSeconds ?? 10)));
  return command({
    argv: [
      'ssh',
      '-F',
      config,
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
    description: `Check that SSH to '${alias}' works non-interactively (ssh -F ${config} ${alias} echo OK)`,
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
