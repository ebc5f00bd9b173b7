/**
 * The mail server's SASL login at the relay against the secret store (`relay.sasl` in the config): is the
 * password in the mail server's SASL password table(s) the current one, and, after approval, write it
 * there and reload Postfix. The tables and the password stay inside these activities: evidence names
 * files and keys only, never a password.
 */
import { createHash } from 'node:crypto';
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
import { markerPrefix, markerStatus, runOnce, type AppliedCheck } from './once.js';
import { outcome } from './outcome.js';
import { buildOrFail, run, runOk } from './run.js';
import { pollUntil } from './wait.js';

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
  /**
   * The tables are files inside the container and none of them is a source the mail server rebuilds them
   * from at start (docker-mailserver's postfix-sasl-password.cf): recreating the container undoes a rewrite.
   */
  containerOnly?: boolean;
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
 * original with its owner and mode. The move is the change, run once per run and step through the host's
 * once wrapper: a retry that finds the file already holding the intended content (its hash) does not move
 * again. Whatever happens, no new file is left behind. Returns the once wrapper's note, if any.
 */
async function rewriteTable(
  ctx: Context,
  onceKey: string,
  part: string,
  path: string,
  text: string,
): Promise<string | undefined> {
  const cmds = ctx.commands;
  const intended = contentHash(text);
  const steps = cmds.replaceFile(path);
  const commit = buildOrFail(() => steps[steps.length - 1]!);
  try {
    await runOk(ctx.host, () => cmds.writeNewFile(path, text));
    for (const step of steps.slice(0, -1)) await runOk(ctx.host, () => step);
    const moved = await runOnce(ctx, onceKey, part, commit, async () => {
      const now = await runOk(ctx.host, () => cmds.readSecretFile(path));
      return contentHash(now.stdout) === intended ? `${path} has the intended content` : undefined;
    });
    return moved.note;
  } finally {
    // After a move there is nothing left to remove; after a failure, or a move an earlier attempt made,
    // the new file would stay behind with the password in it.
    await run(ctx.host, () => cmds.removeNewFile(path)).catch(() => undefined);
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
  const rebuiltFromSource = files.some((f) => ctx.commands.saslPasswordSources.includes(f.path));
  const evidence = {
    configured: true,
    user: ctx.user,
    files: publicView(files),
    ...(ctx.commands.filesInContainer && !rebuiltFromSource && { containerOnly: true }),
  };
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
      const note = await rewriteTable(ctx, onceKey, replacePart, file.path, text);
      if (note) notes.push(note);
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
    const sources = files.filter((f) => cmds.saslPasswordSources.includes(f.path)).map((f) => f.path);
    if (sources.length > 0) notes.push(await waitSourcesApplied(ctx, sources));
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

/** How long syncRelayCredentials waits for a change detector to apply the sources it wrote. */
export const SOURCES_APPLIED_WAIT_MS = 20_000;

/**
 * Waits (bounded, heartbeating) until the mail server's change detector has applied the source files as they
 * are now (DMS: its checksum list names their SHA-512). Its own Postfix reload comes a few seconds after our
 * write; a flush before it can strand the flushed mail (the queue manager that took it is replaced) until
 * the next queue run. Returns a note for the outcome; never fails the step.
 */
async function waitSourcesApplied(ctx: Context, sources: string[]): Promise<string> {
  const list = ctx.commands.appliedSourcesList;
  if (list === undefined) return 'no change detector applies the sources';
  // The sources do not change while we wait: their lines as the detector will record them, read once.
  const expected: string[] = [];
  for (const path of sources) {
    const now = await runOk(ctx.host, () => ctx.commands.readSecretFile(path));
    expected.push(`${createHash('sha512').update(now.stdout).digest('hex')}  ${path}`);
  }
  const applied = async (): Promise<boolean> => {
    const recorded = await run(ctx.host, () => ctx.commands.readSecretFile(list));
    if (recorded.exitCode !== 0) return false;
    const lines = new Set(recorded.stdout.split('\n'));
    return expected.every((line) => lines.has(line));
  };
  const waited = await pollUntil(SOURCES_APPLIED_WAIT_MS / 1000, 1_000, applied, (done) => done);
  return waited.done
    ? `the change detector applied ${sources.join(', ')} (its own reload is done)`
    : `the change detector had not applied ${sources.join(', ')} within ${SOURCES_APPLIED_WAIT_MS / 1000} s: its Postfix reload may still come`;
}

/** No host state tells whether it ran: run it again when an earlier run left no result. */
const notYet: AppliedCheck = () => Promise.resolve(undefined);

/** The digest a retry compares a table file against (never logged: it is of secret content). */
function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
