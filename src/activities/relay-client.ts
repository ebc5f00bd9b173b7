/**
 * How the mail server itself reaches the relay over SSH (the operators' manual check
 * `ssh cloudrelay echo OK`): its private key must exist with safe permissions, and the non-interactive SSH
 * login must work.
 */
import type { Target } from '../config/schema.js';
import { parseStat, privateKeyProblems, type FileStat } from '../parsers/index.js';
import type { StepOutcome } from '../shared/types.js';
import { onMailServer, targetConfig } from './context.js';
import { runOnce, type AppliedCheck } from './once.js';
import { configError, outcome } from './outcome.js';
import { buildOrFail, run, tail } from './run.js';

type RelayClient = NonNullable<Target['mailServer']['relayClient']>;

function relayClient(target: Target): RelayClient | undefined {
  return target.mailServer.relayClient;
}

export interface KeyEvidence {
  path: string;
  expectedOwner: string;
  /** The key is a file inside the mail server's container (docker-mailserver), not on a plain host. */
  insideContainer?: boolean;
  stat?: FileStat;
  problems: string[];
}

/** The relay key in the mail server: present, a regular file, mode 0600 (or 0400), right owner. */
export async function relayKeyPermissions(targetName: string): Promise<StepOutcome<KeyEvidence>> {
  const target = await targetConfig(targetName);
  const client = relayClient(target);
  if (!client) {
    return outcome(true, 'no relayClient configured: the mail server does not use SSH to the relay', {
      path: '',
      expectedOwner: '',
      problems: [],
    });
  }
  const { host, commands } = await onMailServer(target);
  const r = await run(host, () => commands.keyFileStat(client.keyPath));
  const base = {
    path: client.keyPath,
    expectedOwner: client.keyOwner,
    ...(commands.filesInContainer && { insideContainer: true }),
  };
  if (!r.ok) {
    const why = tail(r.stderr || r.stdout, 200);
    return outcome(false, `relay key ${client.keyPath} cannot be read: ${why}`, { ...base, problems: [why] });
  }
  const stat = parseStat(r.stdout);
  const problems = privateKeyProblems(stat, client.keyOwner);
  return outcome(
    problems.length === 0,
    problems.length
      ? `relay key ${client.keyPath} ${problems.join('; ')}`
      : `relay key ${client.keyPath} is mode ${stat.modeText.padStart(4, '0')}, owned by ${stat.user}`,
    { ...base, stat, problems },
  );
}

/** chmod 0600 and chown to the expected owner. */
export async function fixRelayKeyPermissions(
  targetName: string,
  onceKey: string,
): Promise<StepOutcome<{ path: string; owner: string }>> {
  const target = await targetConfig(targetName);
  const client = relayClient(target);
  if (!client) throw configError(`target ${target.name} has no relayClient`);
  const on = await onMailServer(target);
  // A retry after an earlier attempt died or failed: the file's owner or mode already right?
  const keyProblem = async (wanted: (problem: string) => boolean): Promise<string | undefined> => {
    const r = await run(on.host, () => on.commands.keyFileStat(client.keyPath));
    if (!r.ok) return undefined;
    const problems = privateKeyProblems(parseStat(r.stdout), client.keyOwner).filter(wanted);
    return problems.length === 0 ? `${client.keyPath}: ${r.stdout.trim()}` : undefined;
  };
  const ownerRight: AppliedCheck = () => keyProblem((p) => p.includes('owned by'));
  const modeRight: AppliedCheck = () => keyProblem((p) => p.includes('mode'));
  const owner = await runOnce(
    on,
    onceKey,
    'chown',
    buildOrFail(() => on.commands.setKeyOwner(client.keyPath, client.keyOwner)),
    ownerRight,
  );
  const mode = await runOnce(
    on,
    onceKey,
    'chmod',
    buildOrFail(() => on.commands.restrictKeyMode(client.keyPath)),
    modeRight,
  );
  const note = [owner.note, mode.note].filter(Boolean).join('; ');
  return outcome(
    true,
    `set ${client.keyPath} to mode 0600, owner ${client.keyOwner}${note ? ` (${note})` : ''}`,
    { path: client.keyPath, owner: client.keyOwner },
  );
}

/** `ssh <alias> echo OK` from the mail server: key, host key pinning and the relay's sshd, all at once. */
export async function sshToRelay(
  targetName: string,
): Promise<StepOutcome<{ alias: string; exitCode: number | null; output: string }>> {
  const target = await targetConfig(targetName);
  const client = relayClient(target);
  if (!client) {
    return outcome(true, 'no relayClient configured: nothing to check', {
      alias: '',
      exitCode: null,
      output: '',
    });
  }
  const { host, commands } = await onMailServer(target);
  const r = await run(host, () =>
    commands.sshToRelay({
      alias: client.hostAlias,
      ...(client.sshConfig !== undefined && { configPath: client.sshConfig }),
    }),
  );
  const ok = r.exitCode === 0 && r.stdout.trim() === 'OK';
  const output = tail(`${r.stdout}\n${r.stderr}`, 400);
  return outcome(
    ok,
    ok
      ? `ssh ${client.hostAlias} echo OK works`
      : `ssh ${client.hostAlias} failed (exit ${r.exitCode}): ${tail(r.stderr || r.stdout, 200)}`,
    { alias: client.hostAlias, exitCode: r.exitCode, output },
  );
}
