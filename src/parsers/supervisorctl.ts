/**
 * `supervisorctl status` lines: `name  STATE  description`, e.g.
 *   amavis     RUNNING   pid 1940, uptime 0:00:03
 *   clamav     FATAL     Exited too quickly (process log may have details)
 *   fetchmail  STOPPED   Not started
 *   amavis     STOPPED   Nov 22 03:03 AM
 */
import { excerpt, lines, ParseError } from './errors.js';

export const SUPERVISOR_STATES = [
  'STOPPED',
  'STARTING',
  'RUNNING',
  'BACKOFF',
  'STOPPING',
  'EXITED',
  'FATAL',
  'UNKNOWN',
] as const;
export type SupervisorState = (typeof SUPERVISOR_STATES)[number];

export interface SupervisorProgram {
  /** "name", or "group:name" for grouped programs. */
  readonly name: string;
  readonly state: SupervisorState;
  readonly pid?: number;
  readonly uptimeSeconds?: number;
  readonly description: string;
}

const PARSER = 'supervisorctl status';
const LINE = new RegExp(`^(\\S+)\\s+(${SUPERVISOR_STATES.join('|')})(?:\\s+(.*))?$`);
const RUNNING = /^pid (\d+), uptime (?:(\d+) days?, )?(\d+):(\d\d):(\d\d)$/;

export function parseSupervisorStatus(text: string): SupervisorProgram[] {
  const out: SupervisorProgram[] = [];
  lines(text).forEach((l, i) => {
    if (l.trim() === '') return;
    const m = LINE.exec(l.trimEnd());
    if (!m) {
      // Typical: "unix:///dev/shm/supervisor.sock no such file" (supervisord not running) or
      // "foo: ERROR (no such process)".
      throw new ParseError(PARSER, `not a program status line: ${excerpt(l)}`, i + 1);
    }
    const description = m[3] ?? '';
    const run = RUNNING.exec(description);
    out.push({
      name: m[1] ?? '',
      state: m[2] as SupervisorState,
      description,
      ...(run && {
        pid: Number(run[1]),
        uptimeSeconds:
          Number(run[2] ?? 0) * 86400 + Number(run[3]) * 3600 + Number(run[4]) * 60 + Number(run[5]),
      }),
    });
  });
  return out;
}
