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
import { registerCatalogCommands } from './cli/catalog.js';
import { registerConfigCommands } from './cli/config.js';
import { registerFleetCommand } from './cli/fleet.js';
import { registerHostKeyCommand } from './cli/hostkey.js';
import { registerInitCommand } from './cli/init.js';
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
import { DEFAULT_CONFIG_PATHS } from './config/load.js';

/** The same -c/--config on every command, so a script can pass it to any of them. */
export const CONFIG_OPTION_HELP = `config file (default: $MRB_CONFIG, else ${DEFAULT_CONFIG_PATHS.join(', else ')})`;

function addConfigOption(command: Command): void {
  for (const sub of command.commands) {
    if (sub.commands.length > 0) addConfigOption(sub);
    else if (!sub.options.some((o) => o.long === '--config'))
      sub.option('-c, --config <path>', CONFIG_OPTION_HELP);
  }
}

/** Every command that runs something (a leaf of the command tree), with its full name. */
export function leafCommands(
  command: Command,
  prefix: string[] = [],
): { name: string[]; command: Command }[] {
  return command.commands.flatMap((sub) => {
    const name = [...prefix, sub.name()];
    return sub.commands.length > 0 ? leafCommands(sub, name) : [{ name, command: sub }];
  });
}

/**
 * Parses a command line as `run` would, without running it: unknown commands or options, missing
 * arguments or required options are the error Commander prints (the docs' examples are checked with it).
 */
export async function checkCommandLine(args: readonly string[]): Promise<{ ok: boolean; error: string }> {
  const program = buildProgram();
  for (const { command } of leafCommands(program)) command.action(() => undefined);
  let error = '';
  program.configureOutput({ writeOut: () => undefined, writeErr: (text) => void (error += text) });
  try {
    await program.parseAsync([...args], { from: 'user' });
    return { ok: true, error: '' };
  } catch (err) {
    if (
      err instanceof CommanderError &&
      (err.code === 'commander.helpDisplayed' || err.code === 'commander.version')
    )
      return { ok: true, error: '' };
    return { ok: false, error: error || (err instanceof Error ? err.message : String(err)) };
  }
}

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
  registerCatalogCommands(program);
  registerAuditCommand(program);
  registerScheduleCommands(program);
  registerFleetCommand(program);
  registerConfigCommands(program);
  registerInitCommand(program);
  registerHostKeyCommand(program);
  addConfigOption(program);
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
