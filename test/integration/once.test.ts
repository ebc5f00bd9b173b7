/**
 * Exactly once by design (issue 11, point 1), against the real lab: an action's first attempt runs in a
 * process of its own that is SIGKILLed while its command runs on the host, as a crashed worker would be;
 * the host must finish the command anyway, and the retry (attempt 2, same once-key) must not apply the
 * change again. Counts come from the host: supervisord's "spawned:" lines and a counting shim around
 * postqueue, installed for the test and removed after it. Run under the lab lock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAllHosts } from '../../src/activities/context.js';
import { markerPrefix } from '../../src/activities/once.js';
import { DMS_ONCE_BASE } from '../../src/commands/index.js';
import { runActivityAttempt, spawnActivityAttempt } from '../helpers/activity-attempt.js';
import { ensureLab, inLab, token, type Lab } from '../helpers/lab.js';
import { pollUntil } from '../helpers/poll.js';

const PROGRAM = 'amavis';
/** The relay's supervisord (the lab's own image) logs at level info: one "spawned:" line per start. */
const SUPERVISORD_LOG = '/var/log/supervisor/supervisord.log';
const POSTQUEUE = '/usr/sbin/postqueue';
const POSTQUEUE_REAL = '/usr/sbin/postqueue.mrb-real';
const FLUSH_COUNT_LOG = '/var/log/mrb-postqueue-flush.log';

let lab: Lab;

beforeAll(async () => {
  lab = await ensureLab();
  process.env.MRB_CONFIG = lab.up.config;
}, 600_000);

afterAll(async () => {
  await closeAllHosts();
});

async function sh(script: string, ...args: string[]): Promise<string> {
  return (await inLab(lab, 'mailserver', ['sh', '-c', script, 'test', ...args])).stdout;
}

async function onRelay(script: string, ...args: string[]): Promise<string> {
  return (await inLab(lab, 'relay', ['sh', '-c', script, 'test', ...args])).stdout;
}

/**
 * The program's pid as supervisord reports it: a restart gives it a new one. (Counting supervisord's
 * "spawned:" lines does not work on docker-mailserver, whose supervisord logs at level warn.)
 */
const programPid = async (): Promise<string> => {
  const pid = (await sh('supervisorctl pid "$1" || true', PROGRAM)).trim();
  if (!/^[1-9][0-9]*$/.test(pid)) throw new Error(`supervisorctl pid ${PROGRAM}: ${pid || 'no output'}`);
  return pid;
};

/** The host's marker of the first attempt: "started exit" ("-" for a file not written yet), or undefined. */
async function marker(prefix: string): Promise<{ started: string; exit: string } | undefined> {
  const out = await sh(
    `d="$1/$2.1"; [ -d "$d" ] || exit 0; echo "$(cat "$d/started" 2>/dev/null || echo -) $(cat "$d/exit" 2>/dev/null || echo -)"`,
    DMS_ONCE_BASE,
    prefix,
  );
  const [started, exit] = out.trim().split(' ');
  return started === undefined || started === '' ? undefined : { started, exit: exit ?? '-' };
}

/**
 * Starts attempt 1 in its own process, waits until the host runs its command (`running` says so, from
 * the host), then SIGKILLs the process: the worker's crash after the host started the command.
 */
async function killFirstAttemptMidCommand(
  activity: 'restartProgram' | 'flushQueue' | 'restartRelayWatchdog',
  args: unknown[],
  running: () => Promise<boolean>,
): Promise<void> {
  const attempt = spawnActivityAttempt(activity, 1, args, { MRB_CONFIG: lab.up.config });
  try {
    await pollUntil(60_000, `attempt 1 starts its command (${attempt.output()})`, async () =>
      (await running()) ? true : undefined,
    );
    attempt.child.kill('SIGKILL');
  } finally {
    if (attempt.child.exitCode === null) attempt.child.kill('SIGKILL');
  }
}

/** supervisorctl restart of the program runs in the container (the [b] keeps pgrep from finding itself). */
const restartRuns = async (): Promise<boolean> =>
  (await sh('pgrep -f "[b]in/supervisorctl restart $1" || true', PROGRAM)).trim() !== '';

describe('exactly once on the host (issue 11, point 1)', () => {
  it('a restart whose worker died mid-command completes on the host; the retry does not restart again', async () => {
    const onceKey = token('once-restart');
    const prefix = markerPrefix(onceKey, 'command');
    const before = await programPid();

    await killFirstAttemptMidCommand('restartProgram', ['lab', PROGRAM, onceKey], restartRuns);

    // The connection is gone; the host finishes the restart (stop AND start) and records its exit code.
    await pollUntil(120_000, 'the restart finishes on the host', async () =>
      (await restartRuns()) ? undefined : true,
    );
    expect(await sh('supervisorctl status "$1" || true', PROGRAM)).toMatch(/RUNNING/);
    const restarted = await programPid();
    expect(restarted, 'the first attempt restarted the program').not.toBe(before);

    // The retry asks the host first: the earlier attempt's recorded result, no second restart.
    const retry = (await runActivityAttempt('restartProgram', 2, ['lab', PROGRAM, onceKey])) as {
      ok: boolean;
      summary: string;
    };
    expect(retry.ok).toBe(true);
    expect(await programPid(), 'the retry did not restart it again').toBe(restarted);
    expect(retry.summary).toMatch(/earlier attempt/);
    expect((await marker(prefix))?.exit, 'the host recorded the exit code').toBe('0');
  }, 240_000);

  it('a retry after the wrapper itself died asks supervisord whether the program started since the intent', async () => {
    const onceKey = token('once-restart-died');
    const prefix = markerPrefix(onceKey, 'command');
    const before = await programPid();

    // Kill the host-side wrapper too, as soon as supervisorctl runs (as a container restart or an OOM
    // kill would): no exit code is recorded, though supervisorctl itself goes on and restarts the program.
    await killFirstAttemptMidCommand('restartProgram', ['lab', PROGRAM, onceKey], async () => {
      const killed = await sh(
        `pgrep -f "[b]in/supervisorctl restart $3" > /dev/null && kill -9 "$(cat "$1/$2.1/pid")" && echo killed || true`,
        DMS_ONCE_BASE,
        prefix,
        PROGRAM,
      );
      return killed.trim() === 'killed';
    });
    const restarted = await pollUntil(60_000, 'the program is spawned again', async () => {
      if (!/RUNNING/.test(await sh('supervisorctl status "$1" || true', PROGRAM))) return undefined;
      const pid = await programPid();
      return pid === before ? undefined : pid;
    });
    expect((await marker(prefix))?.exit).toBe('-');

    const retry = (await runActivityAttempt('restartProgram', 2, ['lab', PROGRAM, onceKey])) as {
      ok: boolean;
      summary: string;
    };
    expect(retry.ok).toBe(true);
    expect(retry.summary).toMatch(/already applied after an earlier attempt: amavis runs since/);
    expect(await programPid(), 'the retry did not restart it again').toBe(restarted);
  }, 240_000);

  it('a retried postqueue -f does not flush again', async () => {
    // Count flushes on the host: a shim in front of postqueue logs each -f, then runs the real one.
    await sh(
      `[ -e "$2" ] || mv "$1" "$2"
printf '#!/bin/sh\\n[ "$1" = -f ] && echo "$$" >> %s\\nexec %s "$@"\\n' "$3" "$2" > "$1"
chmod 755 "$1"; : > "$3"`,
      POSTQUEUE,
      POSTQUEUE_REAL,
      FLUSH_COUNT_LOG,
    );
    try {
      const flushes = async () => (await sh('wc -l < "$1"', FLUSH_COUNT_LOG)).trim();
      const onceKey = token('once-flush');
      const prefix = markerPrefix(onceKey, 'command');
      await killFirstAttemptMidCommand('flushQueue', ['lab', onceKey], async () => (await flushes()) === '1');
      await pollUntil(60_000, 'the flush ends on the host', async () =>
        (await sh('pgrep -f "[p]ostqueue.mrb-real -f" || true')).trim() === '' ? true : undefined,
      );
      expect(await flushes()).toBe('1');

      for (const attempt of [2, 3]) {
        const retry = (await runActivityAttempt('flushQueue', attempt, ['lab', onceKey])) as {
          ok: boolean;
          summary: string;
        };
        expect(retry.ok).toBe(true);
        expect(await flushes(), `flushes after attempt ${attempt}`).toBe('1');
        expect(retry.summary).toMatch(/earlier attempt/);
      }
      expect((await marker(prefix))?.exit, 'the host recorded the exit code').toBe('0');
    } finally {
      await sh(`[ -e "$2" ] && mv -f "$2" "$1"; rm -f "$3"`, POSTQUEUE, POSTQUEUE_REAL, FLUSH_COUNT_LOG);
    }
  }, 240_000);

  it('over SSH too: a relay restart whose worker died mid-command completes, and the retry does not restart again', async () => {
    const service = 'smtp-relay';
    const spawned = async () =>
      Number((await onRelay(`grep -c "spawned: '$1'" "$2" || true`, service, SUPERVISORD_LOG)).trim());
    const restarting = async () =>
      (await onRelay('pgrep -f "[b]in/supervisorctl restart $1" || true', service)).trim() !== '';
    const onceKey = token('once-relay');
    const before = await spawned();

    await killFirstAttemptMidCommand('restartRelayWatchdog', ['lab', onceKey], restarting);
    await pollUntil(120_000, 'the relay restart finishes on the relay host', async () =>
      (await restarting()) ? undefined : true,
    );
    expect(await onRelay('supervisorctl status "$1" || true', service)).toMatch(/RUNNING/);
    expect(await spawned()).toBe(before + 1);

    const retry = (await runActivityAttempt('restartRelayWatchdog', 2, ['lab', onceKey])) as {
      ok: boolean;
      summary: string;
    };
    expect(retry.ok).toBe(true);
    expect(await spawned()).toBe(before + 1);
    expect(retry.summary).toMatch(/earlier attempt/);
  }, 240_000);
});
