/**
 * The mail server's SASL login at the relay against the secret store (`relay.sasl` in the config): is the
 * password in the mail server's SASL password table(s) the current one, and, after approval, write it
 * there and reload Postfix. The tables and the password stay inside these activities: evidence names
 * files and keys only, never a password.
 */
import { createHash } from 'node:crypto';
import type { MailServerCommands } from '../commands/index.js';
import {
  checkSaslCredentials,
  parseMapList,
  parsePostconfValues,
  withSaslPassword,
} from '../parsers/index.js';
import type { StepOutcome } from '../shared/types.js';
import { onMailServer, secret, targetConfig, type OnHost } from './context.js';
import { markerPrefix, markerStatus, runOnce, type AppliedCheck } from './once.js';
import { outcome } from './outcome.js';
import { buildOrFail, run, runOk } from './run.js';

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
  const ctx = await context(targetName);
  if (!ctx) return outcome(false, 'relay.sasl is not configured', { configured: false, files: [] });
  const cmds = ctx.commands;
  const files = await inspect(ctx);
  const changed: string[] = [];
  const notes: string[] = [];
  for (const file of files) {
    // Moving the new table into place is the change, once per file and step; a retry that finds the
    // file's content hash already the intended one does not write it again.
    const replacePart = `replace ${file.path}`;
    if (file.differing.length === 0) {
      // In sync now: put in place by an earlier attempt of this step? Then its rebuild and reload are due.
      const earlier = await markerStatus(ctx, markerPrefix(onceKey, replacePart));
      if (!earlier.markers.some((m) => m.startedAt !== undefined)) continue;
      notes.push(`${file.path} written by an earlier attempt`);
    } else {
      const text = withSaslPassword(file.text, ctx.user, ctx.password);
      const intended = contentHash(text);
      const steps = cmds.replaceFile(file.path);
      const commit = buildOrFail(() => steps[steps.length - 1]!);
      await runOk(ctx.host, () => cmds.writeNewFile(file.path, text));
      for (const step of steps.slice(0, -1)) await runOk(ctx.host, () => step);
      const moved = await runOnce(ctx, onceKey, replacePart, commit, async () => {
        const now = await runOk(ctx.host, () => cmds.readSecretFile(file.path));
        return contentHash(now.stdout) === intended ? `${file.path} has the intended content` : undefined;
      });
      if (moved.note) notes.push(moved.note);
    }
    if (file.rebuild) {
      const map = file.rebuild;
      // postmap and reload are repeated when an earlier run of them died: both are harmless twice.
      const rebuilt = await runOnce(
        ctx,
        onceKey,
        `postmap ${map}`,
        buildOrFail(() => cmds.postmapBuild(map)),
        notYet,
      );
      if (rebuilt.note) notes.push(rebuilt.note);
    }
    changed.push(`${file.path} (${file.differing.join(', ') || 'earlier attempt'})`);
  }
  if (changed.length > 0) {
    const reloaded = await runOnce(
      ctx,
      onceKey,
      'reload',
      buildOrFail(() => cmds.postfixReload()),
      notYet,
    );
    if (reloaded.note) notes.push(reloaded.note);
  }
  const evidence = { configured: true, user: ctx.user, files: publicView(files) };
  const note = notes.length ? ` (${[...new Set(notes)].join('; ')})` : '';
  return changed.length > 0
    ? outcome(
        true,
        `wrote the configured password for ${ctx.user} into ${changed.join('; ')} and reloaded Postfix${note}`,
        evidence,
      )
    : outcome(
        true,
        `nothing to change: every entry for ${ctx.user} already has the configured password`,
        evidence,
      );
}

/** No host state tells whether it ran: run it again when an earlier run left no result. */
const notYet: AppliedCheck = () => Promise.resolve(undefined);

/** The digest a retry compares a table file against (never logged: it is of secret content). */
function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
