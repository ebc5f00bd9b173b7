/**
 * SSH carries one command string, which the remote login shell parses. These functions turn an argument
 * vector into such a string so that each element arrives as exactly one argument, with nothing in it
 * interpreted ($(), backticks, quotes, ;, newlines, globs).
 */
import { TransportError } from './types.js';

export type RemoteShell = 'posix' | 'powershell';

/**
 * POSIX sh: wrap in single quotes, inside which nothing is special; a single quote itself is written as
 * '\'' (close, escaped quote, reopen). Newlines inside single quotes are literal. Assumes the account's
 * login shell is POSIX-compatible (sh, dash, bash, zsh, ksh), not csh/fish.
 */
export function quotePosix(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * `exec` makes the shell replace itself with the program, so a timeout's KILL signal reaches the program
 * itself instead of a wrapping shell that would leave it running.
 */
export function posixCommandLine(argv: readonly string[]): string {
  return `exec ${argv.map(quotePosix).join(' ')}`;
}

// PowerShell treats the typographic single quotes like the ASCII one, in strings and when ending them.
const POWERSHELL_SINGLE_QUOTES = /['\u2018\u2019\u201a\u201b]/g;
// A bare `-Name` (or `-Name:`) token is how a cmdlet parameter is named; quoted it would be a plain string.
const POWERSHELL_PARAMETER = /^-[A-Za-z][A-Za-z0-9]*:?$/;
// Windows caps a process command line at 32767 UTF-16 units; leave room for the program path.
const MAX_WINDOWS_COMMAND_LINE = 32_000;

/**
 * One argument for PowerShell: a parameter name (`-Name`) stays bare, anything else becomes a single-quoted
 * literal, inside which only quote characters are special and are escaped by doubling. `$`, backticks,
 * `;`, `(`, newlines stay literal.
 */
export function quotePowerShell(arg: string): string {
  if (POWERSHELL_PARAMETER.test(arg)) return arg;
  return `'${arg.replace(POWERSHELL_SINGLE_QUOTES, (quote) => quote + quote)}'`;
}

/**
 * Windows PowerShell 5.1 re-quotes arguments for native programs in a lossy way ("legacy" passing): an
 * empty string is dropped, an embedded `"` is passed unescaped, and a trailing `\` in an argument that
 * gets quoted escapes the closing quote. Each can shift or merge arguments (argument injection), and we
 * cannot tell a cmdlet from a native program here, so such arguments are refused.
 */
export function assertPowerShellSafe(argv: readonly string[]): void {
  argv.forEach((arg, index) => {
    const problem =
      arg === ''
        ? 'is empty (Windows PowerShell drops empty arguments to programs)'
        : arg.includes('"')
          ? 'contains a double quote (Windows PowerShell passes it to programs unescaped)'
          : /\s/.test(arg) && arg.endsWith('\\')
            ? 'has spaces and ends with a backslash (it would escape the quote Windows PowerShell adds)'
            : undefined;
    if (problem) throw new TransportError('config', `argument ${index} ${problem}; refusing to run it`);
  });
}

/**
 * The PowerShell script for an argument vector: run it with the call operator, then turn the outcome into
 * an exit code (a native program's own code; 1 for a failed cmdlet). UTF-8 output so non-ASCII survives;
 * progress records are silenced because they arrive on stderr as CLIXML when no console is attached.
 */
export function powerShellScript(argv: readonly string[]): string {
  const [program, ...args] = argv;
  if (program === undefined) throw new TransportError('config', 'empty argument vector');
  const call = [
    '&',
    `'${program.replace(POWERSHELL_SINGLE_QUOTES, (q) => q + q)}'`,
    ...args.map(quotePowerShell),
  ];
  return [
    "$ProgressPreference = 'SilentlyContinue'",
    '[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false',
    call.join(' '),
    '$mrbOk = $?',
    'if ($mrbOk) { exit 0 } elseif ($LASTEXITCODE) { exit $LASTEXITCODE } else { exit 1 }',
  ].join('\n');
}

/**
 * The command string for OpenSSH on Windows whose DefaultShell is PowerShell. The script travels as
 * -EncodedCommand (base64 of UTF-16LE), because sshd hands the command to the shell through a Windows
 * command line whose parsing strips double quotes and backslashes; base64 survives every layer untouched.
 * `exit $LASTEXITCODE` keeps the inner exit code, which the outer PowerShell would otherwise flatten to 0/1.
 */
export function powerShellCommandLine(argv: readonly string[]): string {
  assertPowerShellSafe(argv);
  const encoded = Buffer.from(powerShellScript(argv), 'utf16le').toString('base64');
  const line = `powershell.exe -NoLogo -NoProfile -NonInteractive -EncodedCommand ${encoded}; exit $LASTEXITCODE`;
  if (line.length > MAX_WINDOWS_COMMAND_LINE) {
    throw new TransportError(
      'config',
      `the PowerShell command line would be ${line.length} characters, over the Windows limit`,
    );
  }
  return line;
}
