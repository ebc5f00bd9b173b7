/**
 * The command catalogue's one output shape: an argument vector plus the limits the transport enforces.
 * Builders never return shell strings; every caller-supplied value is validated before it lands in argv.
 */
import { SECOND } from './limits.js';

export interface CatalogueCommand {
  /** Program and arguments, run as-is by the transport (docker exec, SSH, local). Never a shell string. */
  readonly argv: readonly string[];
  /** Hard deadline for the whole command. */
  readonly timeoutMs: number;
  /** Cap on buffered bytes per stream; streaming consumers (onStdoutLine) still see every line. */
  readonly maxOutputBytes: number;
  /** True when running it changes the host (restart, flush, hold, delete): the runbook asks for approval. */
  readonly stateChanging: boolean;
  /** One line for evidence and approval requests: what it does and why. */
  readonly description: string;
  /**
   * Exit codes that still mean "the command ran and its output is meaningful", e.g. `supervisorctl status`
   * exits 3 when a program is not RUNNING and `systemctl is-active` exits 3 for an inactive unit.
   */
  readonly okExitCodes: readonly number[];
  /** Data for the program's standard input (validated values only, e.g. queue ids one per line). */
  readonly stdin?: string;
}

/** A caller passed a value the catalogue refuses (bad queue id, path, count, name...). Not retryable. */
export class CommandInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'CommandInputError';
  }
}

export { SECOND };
export const KIB = 1024;
export const MIB = 1024 * KIB;

interface CommandSpec {
  argv: readonly string[];
  timeoutMs: number;
  maxOutputBytes: number;
  stateChanging: boolean;
  description: string;
  okExitCodes?: readonly number[];
  stdin?: string;
}

/** Freezes a command so a consumer cannot append to argv after validation. */
export function command(spec: CommandSpec): CatalogueCommand {
  return Object.freeze({
    argv: Object.freeze([...spec.argv]),
    timeoutMs: spec.timeoutMs,
    maxOutputBytes: spec.maxOutputBytes,
    stateChanging: spec.stateChanging,
    description: spec.description,
    okExitCodes: Object.freeze([...(spec.okExitCodes ?? [0])]),
    ...(spec.stdin !== undefined && { stdin: spec.stdin }),
  });
}
