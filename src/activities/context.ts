/**
 * What activities need to reach a target: its config and live transports to the mail server and the
 * relay, built from the config file the worker was started with. Secrets are resolved here, on the
 * worker, and never leave it. Transports are kept per target and rebuilt when the config file changes.
 */
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  mailServerCommandsFor,
  relayCommandsFor,
  type MailServerCommands,
  type RelayCommands,
} from '../commands/index.js';
import { ConfigError, loadConfig, missingConfigMessage, resolveConfigPath } from '../config/load.js';
import {
  isProviderRelay,
  type AdministeredRelay,
  type Config,
  type SecretRef,
  type SshEndpoint,
  type Target,
} from '../config/schema.js';
import { resolveSecret } from '../config/secrets.js';
import { connectEngine, type DockerEngine } from '../transports/docker-engine.js';
import {
  createTransport,
  type DockerEngineSpec,
  type RemoteShell,
  type TransportSpec,
} from '../transports/index.js';
import type { HostTransport } from '../transports/types.js';
import { configError } from './outcome.js';
import { rememberSecret } from './redaction.js';

interface Loaded {
  path: string;
  baseDir: string;
  mtimeMs: number;
  config: Config;
  hosts: Map<string, Promise<HostTransport>>;
  engines: Map<string, Promise<DockerEngine>>;
}

let loaded: Loaded | undefined;

async function closeAll(state: Loaded): Promise<void> {
  const closable: Array<Promise<{ close(): Promise<void> }>> = [
    ...state.hosts.values(),
    ...state.engines.values(),
  ];
  await Promise.all(closable.map(async (c) => (await c.catch(() => undefined))?.close()));
}

/** The worker's config, reloaded when the file changes (so a fixed typo needs no worker restart). */
export async function workerConfig(): Promise<Loaded> {
  const choice = resolveConfigPath();
  if (!choice.exists) throw configError(missingConfigMessage(choice));
  const { mtimeMs } = await stat(choice.path);
  if (loaded && loaded.path === choice.path && loaded.mtimeMs === mtimeMs) return loaded;
  let config: Config;
  try {
    config = await loadConfig(choice.path);
  } catch (err) {
    throw err instanceof ConfigError ? configError(err.message) : err;
  }
  const previous = loaded;
  loaded = {
    path: choice.path,
    baseDir: dirname(choice.path),
    mtimeMs,
    config,
    hosts: new Map(),
    engines: new Map(),
  };
  if (previous) await closeAll(previous);
  return loaded;
}

export async function targetConfig(name?: string): Promise<Target> {
  const { config } = await workerConfig();
  const wanted = name ?? config.defaultTarget;
  const target = config.targets.find((t) => t.name === wanted);
  if (!target) {
    throw configError(
      `unknown target "${wanted}"; the config has: ${config.targets.map((t) => t.name).join(', ')}`,
    );
  }
  return target;
}

export async function secret(ref: SecretRef): Promise<string> {
  const { baseDir } = await workerConfig();
  try {
    const value = await resolveSecret(ref, baseDir);
    rememberSecret(value); // from now on hidden in every result, error and log line of this worker
    return value;
  } catch (err) {
    throw configError((err as Error).message); // SecretError messages name the reference, never the value
  }
}

async function sshSpec(endpoint: SshEndpoint, shell: RemoteShell): Promise<TransportSpec> {
  return {
    kind: 'ssh',
    host: endpoint.host,
    port: endpoint.port,
    user: endpoint.user,
    privateKey: await secret(endpoint.privateKey),
    hostKeyFingerprint: endpoint.hostKey,
    shell,
  };
}

/** How to reach the target's Docker engine (DMS targets only); secrets resolved. */
async function engineSpec(target: Target): Promise<DockerEngineSpec> {
  const server = target.mailServer;
  if (server.kind !== 'dms')
    throw configError(`target ${target.name} runs plain Postfix: it has no Docker engine`);
  const engine = server.docker.engine;
  switch (engine.type) {
    case 'socket':
      return { kind: 'unix', socketPath: engine.socketPath };
    case 'tcp':
      return {
        kind: 'tls',
        host: engine.host,
        port: engine.port,
        ca: await secret(engine.tls.ca),
        cert: await secret(engine.tls.cert),
        key: await secret(engine.tls.key),
      };
    case 'ssh':
      return {
        kind: 'ssh',
        host: engine.host,
        port: engine.port,
        user: engine.user,
        privateKey: await secret(engine.privateKey),
        hostKeyFingerprint: engine.hostKey,
      };
  }
}

async function mailServerSpec(target: Target): Promise<TransportSpec> {
  const server = target.mailServer;
  if (server.kind === 'postfix') return sshSpec(server.ssh, 'posix');
  return { kind: 'docker', engine: await engineSpec(target), container: server.docker.container };
}

export type HostRole = 'mail' | 'relay';

/**
 * Test seam (identity in production): the chaos harness (test/chaos/) wraps every host transport the
 * activities build, to kill the worker just before, during or just after a command reaches the host.
 */
let wrapTransport: (transport: HostTransport, role: HostRole) => HostTransport = (transport) => transport;

export function wrapHostTransportsForTests(
  wrap: (transport: HostTransport, role: HostRole) => HostTransport,
): void {
  wrapTransport = wrap;
}

/**
 * The relay of a target we reach over SSH. A provider relay has no SSH in the config: any activity that
 * would need it stops here, before a connection is attempted (the runbooks skip such steps anyway).
 */
export function administeredRelay(target: Target): AdministeredRelay {
  if (isProviderRelay(target.relay))
    throw configError(
      `target ${target.name}: the relay is a provider relay (no relay.ssh in the config): it cannot be reached over SSH`,
    );
  return target.relay;
}

async function host(target: Target, role: HostRole): Promise<HostTransport> {
  const state = await workerConfig();
  const key = `${target.name}/${role}`;
  let transport = state.hosts.get(key);
  if (!transport) {
    const relaySpec = async () => {
      const relay = administeredRelay(target);
      return sshSpec(relay.ssh, relayCommandsFor(relay).shell);
    };
    transport = (role === 'mail' ? mailServerSpec(target) : relaySpec()).then((spec) =>
      wrapTransport(createTransport(spec), role),
    );
    state.hosts.set(key, transport);
    // A failed build (bad key file, say) must not stay cached.
    transport.catch(() => state.hosts.delete(key));
  }
  return transport;
}

export const mailServerHost = (target: Target): Promise<HostTransport> => host(target, 'mail');

/** The Docker engine API of a DMS target (container state, start, stop). */
export async function mailServerEngine(target: Target): Promise<DockerEngine> {
  const state = await workerConfig();
  let engine = state.engines.get(target.name);
  if (!engine) {
    engine = engineSpec(target).then((spec) => connectEngine(spec));
    state.engines.set(target.name, engine);
    engine.catch(() => state.engines.delete(target.name));
  }
  return engine;
}
export const relayHost = (target: Target): Promise<HostTransport> => host(target, 'relay');

/** A host of a target, ready to use: the target's config, a transport to the host and its commands. */
export interface OnHost<Commands> {
  readonly target: Target;
  readonly host: HostTransport;
  readonly commands: Commands;
}

/** The opening every mail server activity shares: the target (by name or as loaded), its host and commands. */
export async function onMailServer(target: Target | string): Promise<OnHost<MailServerCommands>> {
  const t = typeof target === 'string' ? await targetConfig(target) : target;
  return { target: t, host: await mailServerHost(t), commands: mailServerCommandsFor(t.mailServer) };
}

/** The same for the relay host (never a provider relay: administeredRelay), with the relay's settings. */
export async function onRelay(
  target: Target | string,
): Promise<OnHost<RelayCommands> & { readonly relay: AdministeredRelay }> {
  const t = typeof target === 'string' ? await targetConfig(target) : target;
  const relay = administeredRelay(t);
  return { target: t, relay, host: await relayHost(t), commands: relayCommandsFor(relay) };
}

/** Closes every open connection (worker shutdown). */
export async function closeAllHosts(): Promise<void> {
  if (loaded) await closeAll(loaded);
}
