/**
 * Commands on this machine: spawn with an argument vector (no shell) in a process group of its own, so a
 * timeout kills the command and everything it started, not just the first process.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { errorCode, errorMessage } from './errors.js';
import { runLimited } from './limits.js';
import type { OutputSinks, StartedCommand } from './limits.js';
import { drained } from './streams.js';
import { TransportError } from './types.js';
import type { ExecRequest, ExecResult, HostTransport } from './types.js';

type Child = ChildProcessWithoutNullStreams;

export class LocalTransport implements HostTransport {
  readonly description = 'local process';

  exec(request: ExecRequest): Promise<ExecResult> {
    return runLimited(request, `'${request.argv[0]}' on ${this.description}`, (sinks) =>
      start(request, sinks),
    );
  }

  async close(): Promise<void> {
    // Nothing is held between commands.
  }
}

function start(request: ExecRequest, sinks: OutputSinks): Promise<StartedCommand> {
  const [program = '', ...args] = request.argv;
  return new Promise((resolve, reject) => {
    const child: Child = spawn(program, args, {
      shell: false,
      // detached = setsid(): the child leads a new process group that we can kill as a whole.
      detached: true,
      stdio: 'pipe',
    });
    child.stdout.on('data', sinks.stdout);
    child.stderr.on('data', sinks.stderr);

    child.once('error', (error) => reject(spawnError(program, error)));
    child.once('spawn', () => {
      // EOF right after the input (or at once), like the other transports; a command that exits without
      // reading its input must not fail us with EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(request.stdin);
      resolve({ exited: exited(child), kill: () => killGroup(child) });
    });
  });
}

async function exited(child: Child): Promise<number | null> {
  const code = await new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (exitCode) => resolve(exitCode));
  });
  // Output written just before exiting is still in the pipes: wait until both are read to the end.
  await Promise.all([drained(child.stdout), drained(child.stderr)]);
  return code;
}

async function killGroup(child: Child): Promise<void> {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
  await exited(child);
}

function spawnError(program: string, error: Error): TransportError {
  const code = errorCode(error);
  if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR') {
    return new TransportError('not-found', `cannot run '${program}' locally (${code})`, { cause: error });
  }
  return new TransportError('config', `cannot start '${program}' locally (${errorMessage(error)})`, {
    cause: error,
  });
}
