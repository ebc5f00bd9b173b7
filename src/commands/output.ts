/**
 * Checks that need a command's output read back: the catalogue owns both the commands and how their output
 * is read, per flavour, so an activity only hands over a way to run a command and gets a typed answer.
 */
import type { CatalogueCommand } from './types.js';

/** What a finished command left (a transport's result satisfies it). */
export interface CommandOutput {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The exit code is one of the command's okExitCodes. */
  readonly ok: boolean;
}

/**
 * Runs one catalogue command: the activity's transport, or a test's fake. With `mustSucceed` an exit
 * code outside okExitCodes fails the run instead of returning; the build is deferred so that a refused
 * input is reported like any other command failure.
 */
export type RunCommand = (
  build: () => CatalogueCommand,
  options: { readonly mustSucceed: boolean },
) => Promise<CommandOutput>;

/** A read-only check: runs its commands (through `runCommand`) and reads their output into T. */
export type CommandCheck<T> = (runCommand: RunCommand) => Promise<T>;

/** The last part of a command's output, for summaries and evidence. */
export function tail(text: string, max = 600): string {
  const t = text.trim();
  return t.length > max ? `...${t.slice(-max)}` : t;
}
