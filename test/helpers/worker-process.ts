/**
 * The real worker as a separate process (node --import tsx src/worker.ts), so a test can kill it with
 * SIGKILL, as a crash or an OOM kill would, and start a new one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  kill(): Promise<void>;
}

export async function startWorkerProcess(
  env: Record<string, string>,
  readyTimeoutMs = 60_000,
  /** The worker's entry module, relative to the project root (the chaos harness runs its own). */
  entry = 'src/worker.ts',
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const deadline = Date.now() + readyTimeoutMs;
  while (!output.includes('worker: polling task queue')) {
    if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}: ${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker not ready within ${readyTimeoutMs} ms: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    output: () => output,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
