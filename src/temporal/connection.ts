/**
 * Where the Temporal server is. With TEMPORAL_ADDRESS (or a TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE) the
 * standard client config (@temporalio/envconfig: address, namespace, API key, TLS) is used and no local
 * server is started; otherwise the project runs its own dev server on loopback.
 */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { Connection, Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { ALL_SEARCH_ATTRIBUTES } from '../shared/search-attributes.js';

export const DEFAULT_LOCAL_ADDRESS = '127.0.0.1:7233';
export const TASK_QUEUE = process.env.MRB_TASK_QUEUE ?? 'mail-runbooks';

export interface TemporalTarget {
  mode: 'external' | 'local';
  connectionOptions: NativeConnectionOptions;
  namespace: string;
}

export function usesExternalCluster(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.TEMPORAL_ADDRESS || env.TEMPORAL_PROFILE || env.TEMPORAL_CONFIG_FILE);
}

/** The connection settings: the environment's cluster if named, else the local dev server's address. */
export function temporalTarget(env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  if (usesExternalCluster(env)) {
    const overrideEnvVars = Object.fromEntries(
      Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const { connectionOptions, namespace } = loadClientConnectConfig({
      overrideEnvVars,
      profile: env.TEMPORAL_PROFILE,
    });
    return { mode: 'external', connectionOptions, namespace: namespace ?? 'default' };
  }
  return {
    mode: 'local',
    connectionOptions: { address: env.MRB_LOCAL_TEMPORAL_ADDRESS ?? DEFAULT_LOCAL_ADDRESS },
    namespace: 'default',
  };
}

/** A client for the target; a server that does not answer within connectTimeoutMs is a one-line error. */
export async function connectClient(target = temporalTarget(), connectTimeoutMs = 5_000): Promise<Client> {
  const { address, tls, apiKey, metadata } = target.connectionOptions;
  const where = address ?? DEFAULT_LOCAL_ADDRESS;
  try {
    const connection = await Connection.connect({
      address,
      tls,
      apiKey,
      metadata,
      connectTimeout: connectTimeoutMs,
    });
    return new Client({ connection, namespace: target.namespace });
  } catch (err) {
    const hint =
      target.mode === 'local'
        ? 'start it with `npm start`, or set TEMPORAL_ADDRESS to use another cluster'
        : 'check TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TLS settings';
    const why = ((err as Error).message ?? String(err)).split('\n')[0];
    throw new Error(
      `cannot reach the Temporal server at ${where} within ${connectTimeoutMs / 1000}s (${why}); ${hint}`,
      { cause: err },
    );
  }
}

export async function connectWorker(target = temporalTarget()): Promise<NativeConnection> {
  return NativeConnection.connect(target.connectionOptions);
}

/**
 * Registers the custom search attributes on a cluster we did not start (the dev server gets them as flags).
 * Idempotent: attributes that exist are left alone.
 */
export async function ensureSearchAttributes(client: Client, namespace: string): Promise<void> {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
  const existing = new Set(Object.keys(customAttributes ?? {}));
  const missing = ALL_SEARCH_ATTRIBUTES.filter((k) => !existing.has(k.name));
  if (missing.length === 0) return;
  const indexedValueType: Record<string, number> = { KEYWORD: 2, BOOL: 5, INT: 3, TEXT: 1 };
  await client.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((k) => [k.name, indexedValueType[k.type] ?? 2])),
  });
}
