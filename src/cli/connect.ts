/**
 * The CLI's connection: the standard envconfig (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * TEMPORAL_TLS_*, TEMPORAL_PROFILE) through src/temporal/connection.ts, else the local dev server; a short
 * connect timeout (--connect-timeout / MRB_CONNECT_TIMEOUT, default 5 s) and a one-line error when the
 * server does not answer.
 */
import type { Client } from '@temporalio/client';
import { connectClient, TASK_QUEUE, temporalTarget } from '../temporal/connection.js';
import { CliError, context, errorLine } from './output.js';

/** The runbooks' task queue: MRB_TASK_QUEUE (read now, not at import), else the project's. */
export function taskQueue(): string {
  return process.env.MRB_TASK_QUEUE || TASK_QUEUE;
}

export async function connect(): Promise<Client> {
  let target: ReturnType<typeof temporalTarget>;
  try {
    target = temporalTarget();
  } catch (err) {
    throw new CliError(`the Temporal client configuration is not usable: ${errorLine(err)}`);
  }
  try {
    return await connectClient(target, Math.round(context().connectTimeoutSeconds * 1000));
  } catch (err) {
    throw new CliError(errorLine(err));
  }
}

export async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connect();
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}
