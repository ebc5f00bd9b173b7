/**
 * What the lab itself saw happen, to count each remediation: supervisord's own log in the relay and the mail
 * server containers (every `spawned:` and `stopped:` line), and, in the mail server container, a log of the
 * state-changing programs the runbooks run (postqueue, postsuper, postfix, dd, chmod, chown, mv).
 *
 * That command log comes from transparent shims the chaos harness puts in /usr/local/sbin (first on the
 * container's PATH) for the length of one case: each appends its argv to /var/log/lab-chaos/commands.log and
 * execs the real program. They are removed after the case, so other tests see the image unchanged.
 */
import { dexec } from '../../src/lab/docker.js';
import { CONTAINERS, type Role } from '../../src/lab/settings.js';
import type { Lab } from '../helpers/lab.js';

const SHIMMED = ['postqueue', 'postsuper', 'postfix', 'dd', 'chmod', 'chown', 'mv'] as const;
const SHIM_DIR = '/usr/local/sbin';
const COMMAND_LOG = '/var/log/lab-chaos/commands.log';
const SHIM_MARK = '# lab-chaos shim';

function shimScript(name: string): string {
  return [
    '#!/bin/sh',
    `${SHIM_MARK}: logs the call, then runs the real ${name} (installed by the chaos harness for one case)`,
    // docker-mailserver's change detector runs `postfix reload` itself after a config file changes: its
    // calls are logged under its name, so the counters see only what the runbooks ran.
    'case "$(tr "\\0" " " < /proc/$PPID/cmdline 2>/dev/null)" in *check-for-changes.sh*) by="changedetector: ";; *) by="";; esac',
    `printf '%s\\n' "\${by}${name} $*" >> ${COMMAND_LOG} 2>/dev/null`,
    `for d in /usr/sbin /usr/bin /sbin /bin; do [ -x "$d/${name}" ] && exec "$d/${name}" "$@"; done`,
    `echo "${name}: not found" >&2; exit 127`,
    '',
  ].join('\n');
}

/**
 * The Docker engine's `start` and `stop` events of the mail server container, counted live from the first
 * reading on. Not a `since` query: the engine replays only its last 256 events, a few minutes of the lab's
 * health-check and exec events, so a count over a longer window silently lost old starts (a start seen by
 * the reading before a case but gone from the one after made a real start count 0).
 */
interface EventWatch {
  start: number;
  stop: number;
  /** The engine time (ms) of the latest event of any watched kind received: all events before it arrived. */
  lastSeenMs: number;
  failure?: Error;
  close(): void;
}

let watch: EventWatch | undefined;

async function eventWatch(lab: Lab): Promise<EventWatch> {
  if (watch && !watch.failure) return watch;
  const stream = (await lab.ctx.docker.getEvents({
    filters: {
      type: ['container'],
      container: [CONTAINERS.mailserver, CONTAINERS.relay],
      event: ['start', 'stop', 'exec_die'],
    },
  })) as NodeJS.ReadableStream & { destroy(): void };
  const w: EventWatch = { start: 0, stop: 0, lastSeenMs: 0, close: () => stream.destroy() };
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines.filter((l) => l.trim() !== '')) {
      const e = JSON.parse(line) as {
        Action?: string;
        timeNano?: number;
        Actor?: { Attributes?: { name?: string } };
      };
      if (
        e.Actor?.Attributes?.name === CONTAINERS.mailserver &&
        (e.Action === 'start' || e.Action === 'stop')
      ) {
        w[e.Action] += 1;
      }
      if (e.timeNano) w.lastSeenMs = Math.max(w.lastSeenMs, e.timeNano / 1e6);
    }
  });
  stream.on('error', (err: Error) => (w.failure = err));
  stream.on('end', () => (w.failure ??= new Error('the Docker event stream ended')));
  watch = w;
  return w;
}

/** Stops counting the engine's events (closes the event stream, so the process can exit). */
export function stopCounting(): void {
  watch?.close();
  watch = undefined;
}

/** The counts once every engine event up to `sinceMs` has arrived (an exec in the relay after it is the sign). */
async function containerEvents(w: EventWatch, sinceMs: number): Promise<{ start: number; stop: number }> {
  const deadline = Date.now() + 15_000;
  while (w.lastSeenMs < sinceMs) {
    if (w.failure) throw new Error(`Docker events: ${w.failure.message}`);
    if (Date.now() > deadline)
      throw new Error('Docker events: the relay exec of this reading not seen within 15 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { start: w.start, stop: w.stop };
}

/** Is the mail server container running (its logs can be read)? */
export async function mailServerRunning(lab: Lab): Promise<boolean> {
  const info = await lab.ctx.docker.getContainer(CONTAINERS.mailserver).inspect();
  return info.State.Running;
}

async function sh(lab: Lab, role: Role, script: string, stdin?: string): Promise<string> {
  const r = await dexec(lab.ctx.docker, CONTAINERS[role], ['sh', '-c', script], {
    timeoutMs: 30_000,
    ...(stdin !== undefined ? { stdin } : {}),
  });
  if (r.exitCode !== 0) throw new Error(`${role}: ${r.stderr || r.stdout || `exit ${r.exitCode}`}`);
  return r.stdout;
}

/** Installs the command shims in the mail server container (idempotent; never over a file not ours). */
export async function installShims(lab: Lab): Promise<void> {
  await sh(lab, 'mailserver', `/bin/mkdir -p /var/log/lab-chaos && : >> ${COMMAND_LOG}`);
  for (const name of SHIMMED) {
    const path = `${SHIM_DIR}/${name}`;
    await sh(
      lab,
      'mailserver',
      // a fixed script; the path is one of SHIMMED under SHIM_DIR, never input
      `if [ -e ${path} ] && ! /bin/grep -q '${SHIM_MARK}' ${path}; then echo "${path} exists and is not a chaos shim" >&2; exit 1; fi
/bin/cat > ${path}.tmp && /bin/chmod 0755 ${path}.tmp && /bin/mv -f ${path}.tmp ${path}`,
      shimScript(name),
    );
  }
}

/** Removes the shims (the log stays, for inspection). */
export async function removeShims(lab: Lab): Promise<void> {
  const paths = SHIMMED.map((n) => `${SHIM_DIR}/${n}`).join(' ');
  await sh(
    lab,
    'mailserver',
    `for p in ${paths}; do if /bin/grep -q '${SHIM_MARK}' "$p" 2>/dev/null; then /bin/rm -f "$p"; fi; done`,
  );
}

export interface Counts {
  /** supervisord `spawned: 'smtp-relay'` in the relay container. */
  relaySpawns: number;
  /** supervisord `stopped: smtp-relay` in the relay container. */
  relayStops: number;
  /** supervisord `spawned: 'amavis'` in the mail server container. */
  amavisSpawns: number;
  /** `postqueue -f` runs in the mail server container. */
  flushes: number;
  /** `postsuper -h` (hold), `-d` (delete), `-r` (requeue) runs. */
  holds: number;
  deletes: number;
  requeues: number;
  /** `postfix reload` runs. */
  reloads: number;
  /** Files written: a new content moved into place (`mv -f -- x.mrb-new x`), which is the change. */
  writes: number;
  /** New files staged beside a file (created 0600: `chmod 0600 -- x.mrb-new`): not a change yet; a retry may stage again. */
  staged: number;
  /** `chmod 0600` of an SSH key (`.../.ssh/...`). */
  keyChmods: number;
  /** The Docker engine's `start` and `stop` events of the mail server container. */
  mailServerStarts: number;
  mailServerStops: number;
}

export const COUNT_NAMES = Object.keys({
  relaySpawns: 0,
  relayStops: 0,
  amavisSpawns: 0,
  flushes: 0,
  holds: 0,
  deletes: 0,
  requeues: 0,
  reloads: 0,
  writes: 0,
  staged: 0,
  keyChmods: 0,
  mailServerStarts: 0,
  mailServerStops: 0,
} satisfies Counts) as (keyof Counts)[];

function countLines(text: string, pattern: RegExp): number {
  return text.split('\n').filter((l) => pattern.test(l)).length;
}

/**
 * The counters now (they only grow; compare two readings). While the mail server container is stopped its
 * logs cannot be read: its counters are NaN then (a scenario that stops it checks the engine's events only).
 */
export async function readCounts(lab: Lab): Promise<Counts> {
  const supervisord = '/var/log/supervisor/supervisord.log';
  const events = await eventWatch(lab);
  const readingStartMs = Date.now();
  const relayLog = await sh(lab, 'relay', `/bin/cat ${supervisord} 2>/dev/null || true`);
  const mailUp = await mailServerRunning(lab);
  const mailLog = mailUp ? await sh(lab, 'mailserver', `/bin/cat ${supervisord} 2>/dev/null || true`) : '';
  const commands = mailUp ? await sh(lab, 'mailserver', `/bin/cat ${COMMAND_LOG} 2>/dev/null || true`) : '';
  const { start, stop } = await containerEvents(events, readingStartMs);
  const unknown = mailUp ? 1 : NaN;
  const count = (text: string, pattern: RegExp) => countLines(text, pattern) * unknown;
  return {
    relaySpawns: countLines(relayLog, /spawned: 'smtp-relay'/),
    relayStops: countLines(relayLog, /stopped: smtp-relay/),
    amavisSpawns: count(mailLog, /spawned: 'amavis'/),
    flushes: count(commands, /^postqueue -f\b/),
    holds: count(commands, /^postsuper -h\b/),
    deletes: count(commands, /^postsuper -d\b/),
    requeues: count(commands, /^postsuper -r\b/),
    reloads: count(commands, /^postfix reload\b/),
    writes: count(commands, /^mv -f -- \S+\.mrb-new /),
    staged: count(commands, /^chmod 0600 -- \S+\.mrb-new$/),
    keyChmods: count(commands, /^chmod 0600 -- \S*\/\.ssh\/\S+$/),
    mailServerStarts: start,
    mailServerStops: stop,
  };
}

/** Counters shown but not held to an exact number: steps before the change that a retry may repeat. */
export const INFORMATIONAL: readonly (keyof Counts)[] = ['staged'];

export function delta(before: Counts, after: Counts): Counts {
  return Object.fromEntries(COUNT_NAMES.map((k) => [k, after[k] - before[k]])) as unknown as Counts;
}

/** "flushes=1 relaySpawns=1" (non-zero counts only). */
export function formatCounts(counts: Partial<Counts>): string {
  const parts = COUNT_NAMES.filter((k) => (counts[k] ?? 0) !== 0 && !Number.isNaN(counts[k])).map(
    (k) => `${k}=${counts[k]}`,
  );
  return parts.length > 0 ? parts.join(' ') : '-';
}
