/**
 * The operator CLI. Each command group lives in src/cli/ and registers itself here; this file only builds
 * the program and turns errors into one line and exit code 1 (stack traces with MRB_DEBUG=1).
 */
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { registerConfigCommands } from './cli/config.js';
import { registerRunCommands } from './cli/runs.js';
import { registerScheduleCommands } from './cli/schedules.js';

export function buildProgram(): Command {
  const program = new Command()
    .name('mail-runbooks')
    .description('durable runbook automation for mail servers (docker-mailserver / Postfix + SMTP relay)')
    .showHelpAfterError();
  registerRunCommands(program);
  registerScheduleCommands(program);
  registerConfigCommands(program);
  return program;
}

export async function main(argv: readonly string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    console.error(`mail-runbooks: ${message}`);
    if (process.env.MRB_DEBUG === '1' && err instanceof Error && err.stack) console.error(err.stack);
    process.exitCode = 1;
  }
}

// Run when started directly (npm run cli, tsx src/client.ts); bin/mail-runbooks.js calls main() itself.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
