/**
 * The mail server's SASL login at the relay against the secret store (`relay.sasl` in the config): is the
 * password in the mail server's SASL password table(s) the current one, and, after approval, write it
 * there and reload Postfix. The tables and the password stay inside these activities: evidence names
 * files and keys only, never a password.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { MailServerCommands } from '../commands/index.js';
import {
  checkSaslCredentials,
  parseMapList,
  parsePostconfValues,
  withSaslPassword,
} from '../parsers/index.js';
import { ERROR_TYPE } from '../shared/errors.js';
import type { StepOutcome } from '../shared/types.js';
import { onMailServer, secret, targetConfig, type OnHost } from './context.js';
import { once } from './once.js';
import { outcome } from './outcome.js';
import { run, runOk } from './run.js';

const FILE_MAP_TYPES = new Set(['texthash', 'hash', 'lmdb', 'btree', 'cdb']);

export interface CredentialFile {
  path: string;
  /** Map to rebuild with postmap after the file changes (indexed types). */
  rebuild?: string;
  keys: string[];
  differing: string[];
}

export interface RelayCredentialsEvidence {
  configured: boolean;
  user?: string;
  files: CredentialFile[];
}

interface Context extends OnHost<MailServerCommands> {
  user: string;
  password: string;
}

async function context(targetName: string): Promise<Context | undefined> {
  const target = await targetConfig(targetName);
  const sasl = target.relay.sasl;
  if (!sasl) return undefined;
  return {
    ...(await onMailServer(target)),
    user: sasl.user,
    password: await secret(sasl.password),
  };
}

async function tableFiles(ctx: Context): Promise<Array<{ path: string; rebuild?: string }>> {
  const cmds = ctx.commands;
  const out = await runOk(ctx.host, () => cmds.postconfValues(['smtp_sasl_password_maps']));
  const value = parsePostconfValues(out.stdout, ['smtp_sasl_password_maps']).smtp_sasl_password_maps ?? '';
  const files = parseMapList(value)
    .filter((m) => FILE_MAP_TYPES.has(m.type) && m.name.startsWith('/'))
    .map((m) => ({ path: m.name, ...(m.type !== 'texthash' && { rebuild: m.text }) }));
  // Sources the server rebuilds its table from at start must change too, or a restart undoes the fix.
  for (const source of cmds.saslPasswordSources) {
    const present = await run(ctx.host, () => cmds.fileStat(source, 'file'));
    if (present.exitCode === 0) files.push({ path: source });
  }
  return files;
}

async function inspect(ctx: Context): Promise<Array<CredentialFile & { text: string }>> {
  const cmds = ctx.commands;
  const result = [];
  for (const file of await tableFiles(ctx)) {
    const read = await runOk(ctx.host, () => cmds.readSecretFile(file.path));
    // A cut read misses entries: comparing it would mislead, and writing it back would lose the rest.
    if (read.truncated.stdout) throw cutTable(file.path, cmds.readSecretFile(file.path).maxOutputBytes);
    const text = read.stdout;
    result.push({ ...file, text, ...checkSaslCredentials(text, ctx.user, ctx.password) });
  }
  return result;
}

function cutTable(path: string, maxBytes: number): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `${path} is larger than the ${Math.round(maxBytes / 1024)} KiB read from a SASL table: it was read cut, ` +
      'so it is neither compared nor written back (a cut table would lose its other entries); check it by hand',
    ERROR_TYPE.config,
  );
}

/**
 * Puts `text` in place of the table at `path`: a new file beside it (0600 from the start), moved over the
 * original with its owner and mode. If any step fails, the new file is removed before the error goes on.
 */
async function rewriteTable(ctx: Context, path: string, text: string): Promise<void> {
  const cmds = ctx.commands;
  try {
    await runOk(ctx.host, () => cmds.writeNewFile(path, text));
    for (const step of cmds.replaceFile(path)) await runOk(ctx.host, () => step);
  } catch (err) {
    await run(ctx.host, () => cmds.removeNewFile(path)).catch(() => undefined);
    throw err;
  }
}

const publicView = (files: Array<CredentialFile & { text: string }>): CredentialFile[] =>
  files.map(({ text: _secret, ...rest }) => rest);

/** ok = the configured password is the one every entry for the user carries (or nothing is configured). */
export async function relayCredentialsInSync(
  targetName: string,
): Promise<StepOutcome<RelayCredentialsEvidence>> {
  const ctx = await context(targetName);
  if (!ctx)
    return outcome(true, 'relay.sasl is not configured: the credentials cannot be compared', {
      configured: false,
      files: [],
    });
  const files = await inspect(ctx);
  const evidence = { configured: true, user: ctx.user, files: publicView(files) };
  const entries = files.reduce((n, f) => n + f.keys.length, 0);
  const differing = files.flatMap((f) => f.differing.map((k) => `${f.path} ${k}`));
  if (entries === 0)
    return outcome(
      false,
      `no entry for ${ctx.user} in ${files.map((f) => f.path).join(', ') || 'any SASL table'}`,
      evidence,
    );
  return differing.length === 0
    ? outcome(
        true,
        `the mail server sends the configured password for ${ctx.user} (${entries} entries)`,
        evidence,
      )
    : outcome(
        false,
        `the mail server sends another password for ${ctx.user} than relay.sasl.password holds: ${differing.join(', ')}`,
        evidence,
      );
}

/** Writes the configured password into every entry for the user, rebuilds indexed maps, reloads Postfix. */
export async function syncRelayCredentials(
  targetName: string,
  onceKey: string,
): Promise<StepOutcome<RelayCredentialsEvidence>> {
  return once(onceKey, async (): Promise<StepOutcome<RelayCredentialsEvidence>> => {
    const ctx = await context(targetName);
    if (!ctx) return outcome(false, 'relay.sasl is not configured', { configured: false, files: [] });
    const cmds = ctx.commands;
    const files = await inspect(ctx);
    const changed: string[] = [];
    for (const file of files) {
      if (file.differing.length === 0) continue;
      const text = withSaslPassword(file.text, ctx.user, ctx.password);
      await rewriteTable(ctx, file.path, text);
      if (file.rebuild) await runOk(ctx.host, () => cmds.postmapBuild(file.rebuild!));
      changed.push(`${file.path} (${file.differing.join(', ')})`);
    }
    if (changed.length > 0) await runOk(ctx.host, () => cmds.postfixReload());
    const evidence = { configured: true, user: ctx.user, files: publicView(files) };
    return changed.length > 0
      ? outcome(
          true,
          `wrote the configured password for ${ctx.user} into ${changed.join('; ')} and reloaded Postfix`,
          evidence,
        )
      : outcome(
          true,
          `nothing to change: every entry for ${ctx.user} already has the configured password`,
          evidence,
        );
  });
}
