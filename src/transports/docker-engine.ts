/**
 * Reaching a Docker engine: its local unix socket, TCP with mutual TLS, or SSH (the engine API tunnelled
 * through `docker system dial-stdio` on the remote host, as the docker CLI does for ssh:// hosts).
 * Everything is taken from the spec; nothing from DOCKER_HOST and friends, so the worker's environment
 * cannot silently redirect a configured engine.
 */
import { Agent } from 'node:http';
import type { ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import Docker from 'dockerode';
import type { DockerOptions } from 'dockerode';
import type DockerModem from 'docker-modem';
import { SshConnection, validateEndpoint } from './ssh-connection.js';
import type { SshEndpoint } from './ssh-connection.js';
import { TransportError } from './types.js';

export type DockerEngineSpec =
  /** The engine on this machine; socketPath defaults to Docker's own default. */
  | { readonly kind: 'unix'; readonly socketPath?: string }
  /** TCP with mutual TLS (no plaintext TCP: anyone reaching that port would own the host). PEM contents. */
  | {
      readonly kind: 'tls';
      readonly host: string;
      readonly port: number;
      readonly ca: string;
      readonly cert: string;
      readonly key: string;
    }
  /** SSH to a host whose user may run `docker`; the host key is pinned like for the SSH transport. */
  | ({ readonly kind: 'ssh' } & SshEndpoint);

/** What dockerode hands to docker-modem; its own typings omit the modem-only options we rely on. */
type EngineOptions = DockerOptions &
  Pick<DockerModem.ConstructorOptions, 'agent' | 'connectionTimeout'> & { pathPrefix?: string };

export interface DockerEngine {
  readonly docker: Docker;
  /** Secret-free, e.g. "unix socket /var/run/docker.sock", "tls docker1:2376", "ssh ops@docker1:22". */
  readonly description: string;
  close(): Promise<void>;
}

const DEFAULT_SOCKET = '/var/run/docker.sock';
/** Bound on reaching the engine and getting response headers (not on a command's output stream). */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export function validateEngine(spec: DockerEngineSpec): void {
  switch (spec.kind) {
    case 'unix':
      if (spec.socketPath !== undefined && !spec.socketPath.startsWith('/')) {
        throw new TransportError('config', `docker socket path must be absolute, got '${spec.socketPath}'`);
      }
      return;
    case 'tls': {
      if (!spec.host || /[\s/]/.test(spec.host))
        throw new TransportError('config', `invalid docker engine host '${spec.host}'`);
      if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65_535) {
        throw new TransportError('config', `invalid docker engine port ${spec.port} for ${spec.host}`);
      }
      const where = `docker engine ${spec.host}:${spec.port}`;
      // Contents are checked for shape only, and messages never quote them.
      if (!isPem(spec.ca, 'CERTIFICATE'))
        throw new TransportError('config', `${where}: ca is not a PEM certificate`);
      if (!isPem(spec.cert, 'CERTIFICATE'))
        throw new TransportError('config', `${where}: cert is not a PEM certificate`);
      if (!isPem(spec.key, 'PRIVATE KEY'))
        throw new TransportError('config', `${where}: key is not a PEM private key`);
      return;
    }
    case 'ssh':
      validateEndpoint(spec);
      return;
  }
}

function isPem(text: string, label: 'CERTIFICATE' | 'PRIVATE KEY'): boolean {
  // Covers "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY".
  return new RegExp(`-----BEGIN [A-Z ]*${label}-----[\\s\\S]+-----END [A-Z ]*${label}-----`).test(text);
}

export function connectEngine(
  spec: DockerEngineSpec,
  connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
): DockerEngine {
  validateEngine(spec);
  // Explicit values (undefined included) for every key the modem would otherwise fill from DOCKER_* variables.
  const base: EngineOptions = {
    socketPath: undefined,
    host: undefined,
    port: undefined,
    protocol: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
    timeout: undefined,
    connectionTimeout: connectTimeoutMs,
    pathPrefix: '/',
  };
  switch (spec.kind) {
    case 'unix': {
      const socketPath = spec.socketPath ?? DEFAULT_SOCKET;
      return idle(engine({ ...base, socketPath }), `unix socket ${socketPath}`);
    }
    case 'tls': {
      const { host, port, ca, cert, key } = spec;
      return idle(engine({ ...base, protocol: 'https', host, port, ca, cert, key }), `tls ${host}:${port}`);
    }
    case 'ssh': {
      const connection = new SshConnection(spec);
      // host/port only fill the HTTP Host header: the agent opens every connection through SSH.
      const agent = new SshDialAgent(connection);
      const docker = engine({ ...base, protocol: 'http', host: 'docker', port: 80, agent });
      return { docker, description: `ssh ${connection.address}`, close: () => connection.close() };
    }
  }
}

function engine(options: EngineOptions): Docker {
  return new Docker(options);
}

function idle(docker: Docker, description: string): DockerEngine {
  // The modem opens a connection per request and keeps none, so there is nothing to release.
  return { docker, description, close: async () => undefined };
}

/**
 * An HTTP agent whose "sockets" are SSH session channels running `docker system dial-stdio`, all on one
 * shared, host-key-checked connection. Errors reach the request as our own TransportErrors.
 */
class SshDialAgent extends Agent {
  constructor(private readonly connection: SshConnection) {
    super({ keepAlive: false });
  }

  override createConnection(
    _options: ClientRequestArgs,
    callback?: (error: Error | null, socket: Duplex) => void,
  ): Duplex | null | undefined {
    // Node's agent ignores the socket argument when there is an error.
    const fail = callback as ((error: Error) => void) | undefined;
    this.connection.exec('docker system dial-stdio').then(
      (channel) => {
        channel.stderr.resume(); // dial-stdio's own complaints: not part of the API stream
        // The HTTP client calls these socket-only methods; on a channel they have no meaning.
        const noop = (): void => undefined;
        callback?.(
          null,
          Object.assign(channel, {
            setKeepAlive: noop,
            setNoDelay: noop,
            setTimeout: noop,
            ref: noop,
            unref: noop,
            destroySoon: () => channel.end(),
          }),
        );
      },
      (error: Error) => fail?.(error),
    );
    return undefined;
  }
}
