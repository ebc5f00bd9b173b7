/** Thin probes that gather the facts ./problems.ts turns into messages: PATH lookups, ports, who listens. */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { listenerFromSs, portProblem, type PortWant, type Problem } from './problems.js';

export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` in the PATH-style list `pathEnv`, or undefined. */
export async function onPath(name: string, pathEnv = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir && (await isExecutable(join(dir, name)))) return join(dir, name);
  }
  return undefined;
}

/** Whether binding host:port fails because something else has it (EADDRINUSE). */
export function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE'));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** Who listens on `port`, from `ss` (iproute2) when it is there: "name (pid N)". Best effort, 3 s at most. */
export function portListener(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('ss', ['-Hltnp', `sport = :${port}`], { timeout: 3000 }, (err, stdout) =>
      resolve(err ? undefined : listenerFromSs(stdout, port)),
    );
  });
}

/** One problem per wanted port that something else already listens on. */
export async function portProblems(wants: readonly PortWant[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const want of wants) {
    if (await portInUse(want.host, want.port))
      problems.push(portProblem(want, await portListener(want.port)));
  }
  return problems;
}
