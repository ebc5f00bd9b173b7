/**
 * Before any integration test: the real parts they need are there, or one message per missing one says
 * what to do (instead of every file failing with `connect ENOENT /var/run/docker.sock`). Starts dockerd
 * when that is safe, and builds the pinned Temporal CLI once when Go is there (with progress).
 */
import Docker from 'dockerode';
import { ensureDockerEngine } from '../../src/preflight/docker.js';
import { PreflightError } from '../../src/preflight/problems.js';
import { ensureTemporalBinary } from '../../src/temporal/binary.js';

export default async function setup(): Promise<void> {
  const log = (line: string): void => console.error(line);
  const problems: string[] = [];
  for (const check of [() => ensureDockerEngine(new Docker(), { log }), () => ensureTemporalBinary(log)]) {
    try {
      await check();
    } catch (err) {
      if (!(err instanceof PreflightError)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length) throw new Error(`integration tests cannot run:\n${problems.join('\n')}`);
}
