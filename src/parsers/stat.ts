/**
 * Output of `stat -c '%a %u %g %U %G %F' PATH` (commands/posix.ts fileStat), and the private-key check
 * built on it: OpenSSH refuses a key that group or others can read, and the key must belong to the
 * user that runs ssh.
 */
import { excerpt, lines, ParseError } from './errors.js';

export interface FileStat {
  /** Permission bits, e.g. 0o600. */
  readonly mode: number;
  /** As printed by %a, e.g. "600". */
  readonly modeText: string;
  readonly uid: number;
  readonly gid: number;
  readonly user: string;
  readonly group: string;
  /** %F: "regular file", "regular empty file", "symbolic link", "directory", ... */
  readonly fileType: string;
}

export function parseStat(text: string): FileStat {
  const l = lines(text).find((x) => x.trim() !== '') ?? '';
  const m = /^([0-7]{1,4}) (\d+) (\d+) (\S+) (\S+) (.+)$/.exec(l.trim());
  if (!m) throw new ParseError('stat', `expected "<mode> <uid> <gid> <user> <group> <type>": ${excerpt(l)}`);
  return {
    mode: parseInt(m[1] ?? '0', 8),
    modeText: m[1] ?? '',
    uid: Number(m[2]),
    gid: Number(m[3]),
    user: m[4] ?? '',
    group: m[5] ?? '',
    fileType: m[6] ?? '',
  };
}

/** Problems with a private key file; empty when it is safe. `owner` is the user ssh runs as. */
export function privateKeyProblems(stat: FileStat, owner?: string): string[] {
  const problems: string[] = [];
  if (stat.fileType !== 'regular file' && stat.fileType !== 'regular empty file') {
    problems.push(`is a ${stat.fileType}, not a regular file`);
  }
  if ((stat.mode & 0o077) !== 0) {
    problems.push(
      `mode ${stat.modeText.padStart(4, '0')} lets group or others access it (want 0600 or 0400)`,
    );
  }
  if ((stat.mode & 0o400) === 0)
    problems.push(`mode ${stat.modeText.padStart(4, '0')} does not let the owner read it`);
  if (owner !== undefined && stat.user !== owner) problems.push(`is owned by ${stat.user}, not ${owner}`);
  return problems;
}
