/**
 * The once wrapper's marker listing (commands/once.ts, `status` mode):
 *   now 1764600000
 *   attempt 3f2a...9c.1 started=1764599990 exit=0 alive=0
 *   attempt 3f2a...9c.2 started=- exit=- alive=1
 * Times are the host's epoch seconds; "-" means not recorded (not started yet, or no exit code).
 */
import { excerpt, lines, ParseError } from './errors.js';

export interface OnceMarker {
  /** The marker's name: `<prefix>.<attempt>[-<part>]`. */
  readonly name: string;
  /** Host epoch seconds the command was started at; absent: claimed but never started. */
  readonly startedAt?: number;
  /** The recorded exit code; absent: still running, or killed before it could record one. */
  readonly exitCode?: number;
  /** The wrapper process still runs. */
  readonly alive: boolean;
}

export interface OnceMarkers {
  /** The host's clock when it listed them (epoch seconds). */
  readonly hostNow: number;
  readonly markers: OnceMarker[];
}

const PARSER = 'mrb-once status';
const ATTEMPT = /^attempt (\S+) started=(-|\d+) exit=(-|\d+) alive=([01])$/;

export function parseOnceMarkers(text: string): OnceMarkers {
  let hostNow: number | undefined;
  const markers: OnceMarker[] = [];
  lines(text).forEach((l, i) => {
    const line = l.trim();
    if (line === '') return;
    const now = /^now (\d+)$/.exec(line);
    if (now) {
      hostNow = Number(now[1]);
      return;
    }
    const m = ATTEMPT.exec(line);
    if (!m) throw new ParseError(PARSER, `not a marker line: ${excerpt(line)}`, i + 1);
    markers.push({
      name: m[1]!,
      ...(m[2] !== '-' && { startedAt: Number(m[2]) }),
      ...(m[3] !== '-' && { exitCode: Number(m[3]) }),
      alive: m[4] === '1',
    });
  });
  if (hostNow === undefined) throw new ParseError(PARSER, 'no "now" line');
  return { hostNow, markers };
}

/** A `show` answer: "exit <code>" on the first stdout line, then the command's stdout. */
export function parseOnceShow(stdout: string): { exitCode: number; stdout: string } {
  const m = /^exit (\d+)\r?\n?/.exec(stdout);
  if (!m) throw new ParseError('mrb-once show', `no exit line: ${excerpt(stdout.slice(0, 40))}`);
  return { exitCode: Number(m[1]), stdout: stdout.slice(m[0].length) };
}
