/**
 * The operator CLI in-process (src/client.ts `run`, fast), pointed at a test server and task queue through
 * the environment variables it reads; each call captures its own output.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type Cli = (...args: string[]) => Promise<CliResult>;

export async function inProcessCli(
  /** The test server (or any cluster: only its address is used). */
  env: Pick<TestWorkflowEnvironment, 'address'>,
  taskQueue: string,
  extraEnv: Record<string, string> = {},
): Promise<Cli> {
  Object.assign(process.env, {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: 'default',
    MRB_TASK_QUEUE: taskQueue,
    ...extraEnv,
  });
  delete process.env.MRB_CONNECT_TIMEOUT;
  const { run } = await import('../../src/client.js');
  return async (...args) => {
    let stdout = '';
    let stderr = '';
    const code = await run(args, {
      stdout: (s) => void (stdout += s),
      stderr: (s) => void (stderr += s),
      isTTY: false,
    });
    return { code, stdout, stderr };
  };
}
