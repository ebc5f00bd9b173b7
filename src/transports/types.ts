/**
 * One small interface for every way we reach a host: local processes, `docker exec` through the Docker
 * engine API, and SSH with a pinned host key. Commands are always argument vectors (never shell strings).
 */

export interface ExecRequest {
  /** The program and its arguments, from the command catalogue. Never a shell string. */
  readonly argv: readonly string[];
  /** Hard deadline for the whole command; on expiry the command is killed and a TransportError('timeout') thrown. */
  readonly timeoutMs: number;
  /** Cap on bytes kept per stream (stdout, stderr); beyond it output is dropped and `truncated` says so. */
  readonly maxOutputBytes: number;
  /** Optional data written to the command's standard input, then closed. */
  readonly stdin?: string;
  /**
   * Streaming consumers (e.g. a queue summary over 100k messages) get each complete stdout line here as it
   * arrives. Lines are still subject to maxOutputBytes for the buffered `stdout` in the result.
   */
  readonly onStdoutLine?: (line: string) => void;
  /**
   * Stops the command early (an activity cancelled while a long listing runs): it is killed as on the
   * deadline and the call rejects with the signal's reason.
   */
  readonly signal?: AbortSignal;
}

export interface ExecResult {
  /** Exit status of the command (null only if it was killed by a signal). */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  readonly truncated: { readonly stdout: boolean; readonly stderr: boolean };
}

export type TransportErrorKind =
  | 'timeout' // the command ran past timeoutMs (retryable)
  | 'unreachable' // connection refused/reset, DNS, engine or sshd not answering (retryable)
  | 'auth' // bad credentials / key rejected (not retryable)
  | 'host-key' // SSH host key unknown or changed (not retryable)
  | 'not-found' // container or program not found (not retryable)
  | 'config'; // invalid transport settings (not retryable)

const RETRYABLE: ReadonlySet<TransportErrorKind> = new Set(['timeout', 'unreachable']);

/** Errors carry a kind and whether retrying can help; messages never contain secrets. */
export class TransportError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
    this.retryable = RETRYABLE.has(kind);
  }
}

export interface HostTransport {
  /** Human-readable, secret-free description for evidence and errors, e.g. "docker exec mailserver @ unix socket". */
  readonly description: string;
  exec(request: ExecRequest): Promise<ExecResult>;
  /** Releases connections (SSH sessions, sockets). Safe to call twice. */
  close(): Promise<void>;
}
