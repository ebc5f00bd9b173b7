/** Output for CLI commands: text for people, JSON for scripts (`--json`), and errors without stack traces. */
export interface OutputOptions {
  json?: boolean;
}

/** An error the user can act on: printed as one line, exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}

export function output(options: OutputOptions, data: unknown, text: string): void {
  console.log(options.json ? JSON.stringify(data) : text);
}
