/**
 * Exactly once on the host: a state-changing catalogue command runs inside a constant wrapper that first
 * claims a marker directory (mkdir is atomic: a second claim of the same name fails), records its pid and
 * start time there, runs the command with HUP and PIPE ignored and its output going into files of the
 * marker (so a dropped docker-exec or SSH connection, when the worker dies, cannot stop it half way, e.g.
 * `supervisorctl restart` between stop and start), bounds it by the command's own limit, and records the
 * exit code atomically (written aside, then moved). A retried activity asks `status` which attempts of the
 * same action exist, started, finished or still run, and `show` for a finished one's output.
 *
 * Marker names are hex digests made by the activity (never user text) plus ".<attempt>[-<part>]".
 */
import { ONCE_WRAPPER_MARGIN_MS, SECOND } from './limits.js';
import { POWERSHELL, psSingleQuoted } from './relay-windows.js';
import { command, CommandInputError, KIB, type CatalogueCommand } from './types.js';
import { printable } from './validate.js';

/** The wrapper found the marker already claimed: an earlier attempt started this command. */
export const ONCE_ALREADY_STARTED_EXIT = 121;
/** The wrapper could not create or use its marker directory: nothing was run. */
export const ONCE_UNUSABLE_EXIT = 120;
/** Standard input arrived cut (the connection dropped while sending it): nothing was run. */
export const ONCE_INPUT_CUT_EXIT = 122;
/** What the wrapper writes on stderr before exiting with ONCE_ALREADY_STARTED_EXIT. */
export const ONCE_ALREADY_STARTED_TEXT = 'mrb-once: already started';

/** Markers older than this are removed when a new one is claimed. */
export const ONCE_MARKER_KEEP_DAYS = 7;

/**
 * The POSIX wrapper. $1 mode (run, status, show), $2 marker base (absolute, or relative to $HOME),
 * $3 marker name (run, show) or name prefix (status); run adds $4 limit in seconds, $5 standard input
 * length in bytes or "-", then the command's argv.
 */
const POSIX_ONCE_SCRIPT = `set -u
mode=$1 base=$2 name=$3
shift 3
case $base in
/*) ;;
*) [ -n "\${HOME:-}" ] || { echo "mrb-once: no HOME for $base" >&2; exit ${ONCE_UNUSABLE_EXIT}; }
   base=$HOME/$base ;;
esac
d=$base/$name
case $mode in
run)
  limit=$1 inbytes=$2
  shift 2
  umask 077
  { mkdir -p -- "$base" && [ -d "$base" ] && [ -w "$base" ]; } 2>/dev/null ||
    { echo "mrb-once: cannot use $base" >&2; exit ${ONCE_UNUSABLE_EXIT}; }
  find "$base" -mindepth 1 -maxdepth 1 -type d -mtime +${ONCE_MARKER_KEEP_DAYS} -exec rm -rf -- {} + 2>/dev/null
  mkdir -- "$d" 2>/dev/null || { echo "${ONCE_ALREADY_STARTED_TEXT} $name" >&2; exit ${ONCE_ALREADY_STARTED_EXIT}; }
  trap '' HUP PIPE
  echo "$$" > "$d/pid"
  if [ "$inbytes" = - ]; then : > "$d/in"; else
    cat > "$d/in"
    got=$(wc -c < "$d/in" | tr -d ' ')
    if [ "$got" != "$inbytes" ]; then
      rm -rf -- "$d"
      echo "mrb-once: standard input cut ($got of $inbytes bytes); nothing run" >&2
      exit ${ONCE_INPUT_CUT_EXIT}
    fi
  fi
  date +%s > "$d/started.tmp" && mv -f -- "$d/started.tmp" "$d/started"
  "$@" < "$d/in" > "$d/out" 2> "$d/err" &
  cmd=$!
  ( sleep "$limit" && kill -TERM "$cmd" && sleep 5 && kill -KILL "$cmd" ) < /dev/null > /dev/null 2>&1 &
  dog=$!
  wait "$cmd"
  code=$?
  kill "$dog" 2> /dev/null
  echo "$code" > "$d/exit.tmp" && mv -f -- "$d/exit.tmp" "$d/exit"
  cat -- "$d/out"
  cat -- "$d/err" >&2
  exit "$code" ;;
status)
  echo "now $(date +%s)"
  for m in "$base/$name".*; do
    [ -d "$m" ] || continue
    n=\${m##*/}
    s=$(cat -- "$m/started" 2>/dev/null) e=$(cat -- "$m/exit" 2>/dev/null) p=$(cat -- "$m/pid" 2>/dev/null)
    alive=0
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
      if [ -r "/proc/$p/cmdline" ]; then
        tr '\\0' '\\n' < "/proc/$p/cmdline" | grep -qxF -- "$n" && alive=1
      else alive=1; fi
    fi
    echo "attempt $n started=\${s:--} exit=\${e:--} alive=$alive"
  done ;;
show)
  [ -f "$d/exit" ] || { echo "mrb-once: no recorded result for $name" >&2; exit 1; }
  echo "exit $(cat -- "$d/exit")"
  cat -- "$d/out"
  cat -- "$d/err" >&2 ;;
*) echo "mrb-once: unknown mode" >&2; exit 2 ;;
esac`;

const MARKER_PREFIX = /^[0-9a-f]{16,64}$/;
const MARKER_NAME = /^[0-9a-f]{16,64}\.[0-9]{1,4}(?:-[0-9]{1,6})?$/;

export function onceMarkerPrefix(value: string): string {
  if (!MARKER_PREFIX.test(value))
    throw new CommandInputError('once marker', `'${printable(value)}' is not a hex digest`);
  return value;
}

export function onceMarkerName(value: string): string {
  if (!MARKER_NAME.test(value))
    throw new CommandInputError(
      'once marker',
      `'${printable(value)}' is not <hex digest>.<attempt>[-<part>]`,
    );
  return value;
}

/** Where a flavour keeps its markers and how it wraps, lists and shows. */
export interface OnceCommands {
  /** The command, run once under the marker `name`. */
  run(name: string, wrapped: CatalogueCommand): CatalogueCommand;
  /** Every marker `<prefix>.*`: "now <epoch>", then "attempt <name> started=<epoch|-> exit=<code|-> alive=<0|1>". */
  status(prefix: string): CatalogueCommand;
  /** A finished marker's result: "exit <code>" then the command's stdout; its stderr on stderr. */
  show(name: string, maxOutputBytes: number): CatalogueCommand;
}

const READ_LIMIT_MS = 15 * SECOND;

/** What PowerShell's -EncodedCommand takes: the script as UTF-16LE, in base64. */
function utf16leBase64(text: string): string {
  let bytes = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    bytes += String.fromCharCode(unit & 0xff, unit >> 8);
  }
  return btoa(bytes);
}

/** Wraps the command's limit and output; what the wrapper itself writes is small. */
function wrappedSpec(wrapped: CatalogueCommand) {
  return {
    timeoutMs: wrapped.timeoutMs + ONCE_WRAPPER_MARGIN_MS,
    maxOutputBytes: wrapped.maxOutputBytes,
    stateChanging: true,
    description: `${wrapped.description}, once (marker kept on the host)`,
    okExitCodes: wrapped.okExitCodes,
  };
}

const limitSeconds = (wrapped: CatalogueCommand): string => String(Math.ceil(wrapped.timeoutMs / SECOND));

/**
 * The POSIX flavour. `base` is absolute (a DMS container: root's own directory) or relative to the login
 * user's home (SSH hosts: the admin user's own writable directory, so no sudoers change is needed).
 */
export function posixOnce(base: string): OnceCommands {
  if (!/^(?:\/)?[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/.test(base) || base.split('/').includes('..')) {
    throw new CommandInputError('once marker base', `'${printable(base)}' is not a plain path`);
  }
  const sh = (...args: string[]): string[] => ['sh', '-c', POSIX_ONCE_SCRIPT, 'mrb-once', ...args];
  return {
    run: (name, wrapped) =>
      command({
        ...wrappedSpec(wrapped),
        argv: sh(
          'run',
          base,
          onceMarkerName(name),
          limitSeconds(wrapped),
          wrapped.stdin === undefined ? '-' : String(new TextEncoder().encode(wrapped.stdin).length),
          ...wrapped.argv,
        ),
        ...(wrapped.stdin !== undefined && { stdin: wrapped.stdin }),
      }),
    status: (prefix) =>
      command({
        argv: sh('status', base, onceMarkerPrefix(prefix)),
        timeoutMs: READ_LIMIT_MS,
        maxOutputBytes: 64 * KIB,
        stateChanging: false,
        description: 'List the once markers of this action (mrb-once status)',
      }),
    show: (name, maxOutputBytes) =>
      command({
        argv: sh('show', base, onceMarkerName(name)),
        timeoutMs: READ_LIMIT_MS,
        maxOutputBytes,
        stateChanging: false,
        description: 'Show the recorded result of an earlier attempt (mrb-once show)',
      }),
  };
}

/** Markers in a DMS container (root; kept across container restarts, dropped with the container). */
export const DMS_ONCE_BASE = '/var/lib/mail-runbooks/once';
/** Markers on an SSH host, relative to the login user's home. */
export const SSH_ONCE_BASE = '.cache/mail-runbooks/once';

const PS_BASE = `$base = Join-Path $env:LOCALAPPDATA 'mail-runbooks\\once'`;

/**
 * The Windows flavour (a relay over OpenSSH): the same markers under %LOCALAPPDATA%\mail-runbooks\once.
 * The wrapped command (itself a `powershell -Command` script from the catalogue) runs as a child process
 * with its output redirected into the marker, passed as -EncodedCommand so no quoting is involved.
 */
export const windowsOnce: OnceCommands = {
  run: (name, wrapped) => {
    const n = psSingleQuoted(onceMarkerName(name));
    const prefix = wrapped.argv.slice(0, POWERSHELL.length);
    const inner = wrapped.argv[POWERSHELL.length];
    if (
      inner === undefined ||
      wrapped.argv.length !== POWERSHELL.length + 1 ||
      prefix.some((a, i) => a !== POWERSHELL[i])
    ) {
      throw new CommandInputError(
        'once command',
        'only a powershell -Command script can run once on Windows',
      );
    }
    const encoded = utf16leBase64(inner);
    const script = [
      `$ErrorActionPreference = 'Stop'`,
      PS_BASE,
      `$d = Join-Path $base ${n}`,
      `New-Item -ItemType Directory -Force -Path $base | Out-Null`,
      `Get-ChildItem -LiteralPath $base -Directory | Where-Object { $_.LastWriteTime -lt (Get-Date).AddDays(-${ONCE_MARKER_KEEP_DAYS}) } | Remove-Item -Recurse -Force -ErrorAction SilentlyContinue`,
      `try { New-Item -ItemType Directory -Path $d | Out-Null } catch { [Console]::Error.WriteLine('${ONCE_ALREADY_STARTED_TEXT} ' + ${n}); exit ${ONCE_ALREADY_STARTED_EXIT} }`,
      `Set-Content -LiteralPath (Join-Path $d 'pid') -Value $PID`,
      `Set-Content -LiteralPath (Join-Path $d 'started') -Value ([DateTimeOffset]::UtcNow.ToUnixTimeSeconds())`,
      `$p = Start-Process -FilePath 'powershell' -ArgumentList @('-NoProfile', '-NonInteractive', '-EncodedCommand', '${encoded}') -RedirectStandardOutput (Join-Path $d 'out') -RedirectStandardError (Join-Path $d 'err') -NoNewWindow -PassThru`,
      `if (-not $p.WaitForExit(${wrapped.timeoutMs})) { $p.Kill() }`,
      `$p.WaitForExit()`,
      `$code = $p.ExitCode`,
      `Set-Content -LiteralPath (Join-Path $d 'exit.tmp') -Value $code`,
      `Move-Item -LiteralPath (Join-Path $d 'exit.tmp') -Destination (Join-Path $d 'exit') -Force`,
      `[Console]::Out.Write([IO.File]::ReadAllText((Join-Path $d 'out')))`,
      `[Console]::Error.Write([IO.File]::ReadAllText((Join-Path $d 'err')))`,
      `exit $code`,
    ].join('; ');
    return command({ ...wrappedSpec(wrapped), argv: [...POWERSHELL, script] });
  },
  status: (prefix) => {
    const filter = psSingleQuoted(`${onceMarkerPrefix(prefix)}.*`);
    const read = (file: string) =>
      `$(if (Test-Path -LiteralPath (Join-Path $m '${file}')) { (Get-Content -LiteralPath (Join-Path $m '${file}') -Raw).Trim() } else { '-' })`;
    const script = [
      PS_BASE,
      `'now ' + [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()`,
      `Get-ChildItem -LiteralPath $base -Directory -Filter ${filter} -ErrorAction SilentlyContinue | ForEach-Object { $m = $_.FullName; $s = ${read('started')}; $e = ${read('exit')}; $q = ${read('pid')}; $alive = 0; if ($q -ne '-' -and (Get-Process -Id $q -ErrorAction SilentlyContinue)) { $alive = 1 }; "attempt $($_.Name) started=$s exit=$e alive=$alive" }`,
    ].join('; ');
    return command({
      argv: [...POWERSHELL, script],
      timeoutMs: READ_LIMIT_MS,
      maxOutputBytes: 64 * KIB,
      stateChanging: false,
      description: 'List the once markers of this action',
    });
  },
  show: (name, maxOutputBytes) => {
    const n = psSingleQuoted(onceMarkerName(name));
    const script = [
      `$ErrorActionPreference = 'Stop'`,
      PS_BASE,
      `$d = Join-Path $base ${n}`,
      `'exit ' + (Get-Content -LiteralPath (Join-Path $d 'exit') -Raw).Trim()`,
      `[Console]::Out.Write([IO.File]::ReadAllText((Join-Path $d 'out')))`,
      `[Console]::Error.Write([IO.File]::ReadAllText((Join-Path $d 'err')))`,
    ].join('; ');
    return command({
      argv: [...POWERSHELL, script],
      timeoutMs: READ_LIMIT_MS,
      maxOutputBytes,
      stateChanging: false,
      description: 'Show the recorded result of an earlier attempt',
    });
  },
};
