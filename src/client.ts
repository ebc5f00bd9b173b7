/**
 * The operator CLI. Each command group lives in src/cli/ and registers itself here; this file builds the
 * program and turns errors into one line and exit code 1 (stack traces with MRB_DEBUG=1).
 *
 * `run(args, io)` runs one invocation in-process and returns its exit code (output to `io`); `main()` is
 * the process entry (bin/mail-runbooks.js, `npm run cli`, `tsx src/client.ts`, `node dist/client.js`).
 *
 * Environment: the standard Temporal client config (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * TEMPORAL_TLS_*, TEMPORAL_PROFILE), else the local dev server; MRB_TASK_QUEUE (the runbooks' task queue);
 * MRB_CONNECT_TIMEOUT (seconds, default 5); MRB_CONFIG (config file).
 */
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { registerAuditCommand } from './cli/audit.js';
import { registerConfigCommands } from './cli/config.js';
import { registerFleetCommand } from './cli/fleet.js';
import {
  CliError,
  DEFAULT_CONNECT_TIMEOUT_SECONDS,
  context,
  errorLine,
  processIo,
  seconds,
  withContext,
  type Io,
} from './cli/output.js';
import { registerRunCommands } from './cli/runs.js';
import { registerScheduleCommands } from './cli/schedules.js';
import { versionLine } from './version.js';

export function buildProgram(): Command {
  const program = new Command()
    .name('mail-runbooks')
    .description('durable runbook automation for mail servers (docker-mailserver / Postfix + SMTP relay)')
    .version(versionLine(), '-V, --version', 'print the version (and the git commit when known)')
    .addOption(
      new Option('--connect-timeout <seconds>', 'give up on the Temporal server after this long')
        .env('MRB_CONNECT_TIMEOUT')
        .default(String(DEFAULT_CONNECT_TIMEOUT_SECONDS)),
    )
    // Settings inherited by every command registered below: no process.exit, output to this invocation.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context().io.stdout(text),
      writeErr: (text) => context().io.stderr(text),
    })
    .showHelpAfterError('(add --help for usage)')
    .hook('preAction', (thisCommand) => {
      const opts = thisCommand.opts<{ connectTimeout?: string }>();
      context().connectTimeoutSeconds = seconds(
        opts.connectTimeout,
        '--connect-timeout',
        DEFAULT_CONNECT_TIMEOUT_SECONDS,
      );
    });
  registerRunCommands(program);
  registerAuditCommand(program);
  registerScheduleCommands(program);
  registerFleetCommand(program);
  registerConfigCommands(program);
  return program;
}

/** Runs one invocation (`args` without node and script) and returns its exit code. */
export async function run(args: readonly string[], io: Io = processIo()): Promise<number> {
  return withContext(io, async (ctx) => {
    try {
      await buildProgram().parseAsync([...args], { from: 'user' });
      return ctx.exitCode;
    } catch (err) {
      // Commander has already printed its own message (usage errors) or the help.
      if (err instanceof CommanderError) return err.exitCode;
      const line = errorLine(err);
      io.stderr(
        args.includes('--json') ? `${JSON.stringify({ error: line })}\n` : `mail-runbooks: ${line}\n`,
      );
      if (process.env.MRB_DEBUG === '1' && err instanceof Error && !(err instanceof CliError) && err.stack)
        io.stderr(`${err.stack}\n`);
      return 1;
    }
  });
}

export async function main(argv: readonly string[] = process.argv): Promise<void> {
  process.exitCode = await run(argv.slice(2));
}

// Run when started directly (npm run cli, tsx src/client.ts); bin/mail-runbooks.js calls main() itself.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
