/**
 * Killing a command tree where we have no handle on its processes (docker exec has no kill call; sshd
 * refuses "signal" requests for root logins). The command runs with a unique marker in its environment,
 * which everything it starts inherits; on timeout a second command on the same host finds the processes
 * carrying the marker in /proc and kills them. Linux targets with sh and tr only; programs that wipe
 * their environment (sudo, env -i) hide their children from it.
 */
import { randomUUID } from 'node:crypto';

const MARKER_VARIABLE = 'MRB_EXEC_ID';

/** `$1` is the marker; `tr` turns the NUL-separated environ into lines so `case` can match it. */
const KILL_SCRIPT = `for p in /proc/[0-9]*; do
  case "$(tr '\\0' '\\n' < "$p/environ" 2>/dev/null)" in
    *"$1"*) kill -9 "\${p#/proc/}" 2>/dev/null ;;
  esac
done`;

/** A fresh `NAME=value` marker; its value is a UUID (shell-safe, and no secret). */
export function newMarker(): string {
  return `${MARKER_VARIABLE}=${randomUUID()}`;
}

/** The argument vector that kills every process whose environment holds `marker` (never itself: it lacks it). */
export function markerKillArgv(marker: string): string[] {
  return ['sh', '-c', KILL_SCRIPT, 'mrb-kill', marker];
}
