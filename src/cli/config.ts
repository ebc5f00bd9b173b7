/** `config` commands: check the config file before a worker or the alert receiver relies on it. */
import { CLI_COMMAND } from '../shared/cli-command.js';
import type { Command } from 'commander';
import { checkConfig, type CheckResult } from '../config/check.js';
import { ConfigError, loadConfig, missingConfigMessage, resolveConfigPath } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { CliError, errorLine, output, setExitCode, type OutputOptions } from './output.js';

/**
 * The config a command needs (`neededFor` says what for, in its error): --config, else $MRB_CONFIG, else
 * ./mail-runbooks.yaml, else (in a checkout of the project) .lab/target.yaml. No file, or one that does not
 * load, is a one-line CliError that says what to do.
 */
export async function loadCliConfig(path: string | undefined, neededFor: string): Promise<Config> {
  const choice = resolveConfigPath({ explicit: path });
  if (!choice.exists) throw new CliError(`${neededFor} needs a config file: ${missingConfigMessage(choice)}`);
  try {
    return await loadConfig(choice.path);
  } catch (err) {
    if (err instanceof ConfigError)
      throw new CliError(
        `${neededFor} needs the config ${choice.path} (${choice.reason}), which is not valid ` +
          `(fix it; \`${CLI_COMMAND} config check\` lists every problem): ${errorLine(err)}`,
      );
    throw err;
  }
}

/** The verdict for people: which file, the targets it defines, each secret reference, then the problems. */
export function renderCheck(result: CheckResult): string {
  const { summary } = result;
  const lines = [`config: ${summary.config} (${summary.reason})`];
  if (summary.targets.length > 0) {
    lines.push(`targets: ${summary.targets.length} (default: ${summary.defaultTarget ?? '-'})`);
    for (const t of summary.targets) {
      lines.push(`  ${t.name}: ${t.mailServer}`, `    ${t.relay}`, `    canary ${t.canary}`);
    }
    lines.push(`alert routes: ${summary.routes}, schedules: ${summary.schedules}`);
  }
  if (summary.secrets.length > 0) {
    const missing = summary.secrets.filter((s) => !s.ok).length;
    lines.push(
      `secret references: ${summary.secrets.length}, ${missing === 0 ? 'all resolvable' : `${missing} not resolvable`}`,
    );
    for (const s of summary.secrets) {
      lines.push(
        `  ${s.ok ? 'ok  ' : 'FAIL'} ${s.path} (${s.reference})${s.problem ? `: ${s.problem}` : ''}`,
      );
    }
  }
  if (result.warnings.length > 0) lines.push('warnings:', ...result.warnings.map((w) => `  ${w}`));
  if (result.problems.length > 0) lines.push('problems:', ...result.problems.map((p) => `  ${p}`));
  const count = result.problems.length;
  lines.push(result.ok ? 'verdict: OK' : `verdict: NOT OK (${count} problem${count === 1 ? '' : 's'})`);
  return lines.join('\n');
}

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('the configuration file');
  config
    .command('check')
    .description(
      'validate the config file and try every secret reference (exit 0 when usable, 1 when not); ' +
        "default file: $MRB_CONFIG, else ./mail-runbooks.yaml, else (in a checkout of the project) the lab's .lab/target.yaml",
    )
    .option('--json', 'machine-readable output')
    .action(async (opts: OutputOptions & { config?: string }) => {
      const result = await checkConfig(opts.config);
      output(opts, result, renderCheck(result));
      setExitCode(result.ok ? 0 : 1);
    });
}
