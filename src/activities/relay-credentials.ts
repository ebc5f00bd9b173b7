/**
 * The mail server's SASL login at the relay against the secret store (`relay.sasl` in the config): is the
 * password in the mail server's SASL password table(s) the current one, and, after approval, write it
 * there and reload Postfix. The tables and the password stay inside these activities: evidence names
 * files and keys only, never a password.
 */
import type { MailServerCommands } from '../commands/index.js';
import {
  checkSaslCredentials,
  parseMapList,
  parsePostconfValues,
  withSaslPassword,
} from '../parsers/index.js';
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
    const text = (await runOk(ctx.host, () => cmds.readSecretFile(file.path))).stdout;
    result.push({ ...file, text, ...checkSaslCredentials(text, ctx.user, ctx.password) });
  }
  return result;
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
      await runOk(ctx.host, () => cmds.writeNewFile(file.path, text));
      for (const step of cmds.replaceFile(file.path)) await runOk(ctx.host, () => step);
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
