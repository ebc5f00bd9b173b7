/**
 * One SSH connection with a pinned host key and key authentication, opened on first use and reused by
 * every command (and, for Docker over SSH, every engine API request). Used by the SSH transport and the
 * Docker engine connection; errors come out as TransportErrors that say whether retrying can help.
 */
// ssh2 is CommonJS and Node's ESM loader does not see `utils` as a named export: take the whole module.
import ssh2 from 'ssh2';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import { errorMessage, isUnreachableError } from './errors.js';
import { formatFingerprint, matchesPinnedKey, parseFingerprint, sshFingerprint } from './fingerprint.js';
import { TransportError } from './types.js';

export interface SshEndpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Private key contents (OpenSSH or PEM), already read from its secret file by the caller. */
  readonly privateKey: string | Buffer;
  readonly passphrase?: string;
  /** The pinned host key, `SHA256:<base64>` as printed by `ssh-keygen -lf`. Empty: no key is trusted. */
  readonly hostKeyFingerprint: string;
  /** Bound on TCP connect + handshake + authentication (ssh2's readyTimeout). Default 10 s, at most 120 s. */
  readonly connectTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const MAX_CONNECT_TIMEOUT_MS = 120_000;
const CLOSE_WAIT_MS = 2_000;

export function validateEndpoint(endpoint: SshEndpoint): void {
  const { host, port, user, connectTimeoutMs } = endpoint;
  if (!host || /[\s/]/.test(host)) throw new TransportError('config', `invalid SSH host '${host}'`);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new TransportError('config', `invalid SSH port ${port} for ${host}`);
  }
  if (!user || /\s/.test(user)) throw new TransportError('config', `invalid SSH user for ${host}:${port}`);
  if (
    connectTimeoutMs !== undefined &&
    !(connectTimeoutMs > 0 && connectTimeoutMs <= MAX_CONNECT_TIMEOUT_MS)
  ) {
    throw new TransportError('config', `connectTimeoutMs must be in (0, ${MAX_CONNECT_TIMEOUT_MS}]`);
  }
}

export class SshConnection {
  /** `user@host:port`, for descriptions and messages. */
  readonly address: string;
  private readonly pinned: Buffer | undefined;
  private current: Promise<Client> | undefined;

  constructor(private readonly endpoint: SshEndpoint) {
    validateEndpoint(endpoint);
    this.address = `${endpoint.user}@${endpoint.host}:${endpoint.port}`;
    this.pinned = endpoint.hostKeyFingerprint.trim()
      ? parseFingerprint(endpoint.hostKeyFingerprint)
      : undefined;
    // Fail now, not at the first command, when the key cannot be used; ssh2's messages name no key material.
    const parsed = ssh2.utils.parseKey(endpoint.privateKey, endpoint.passphrase);
    if (parsed instanceof Error) {
      throw new TransportError(
        'auth',
        `the private key for ${this.address} cannot be used (not a private key, or a wrong or missing passphrase)`,
      );
    }
  }

  /** The connected client, connecting first if needed; a lost connection is replaced on the next call. */
  client(): Promise<Client> {
    if (!this.current) {
      const connecting = this.connect();
      this.current = connecting;
      connecting.catch(() => {
        if (this.current === connecting) this.current = undefined;
      });
    }
    return this.current;
  }

  /** Runs `command` on a new session channel of the shared connection. */
  async exec(command: string): Promise<ClientChannel> {
    const client = await this.client();
    return new Promise((resolve, reject) => {
      client.exec(command, (error, channel) => {
        if (error) {
          // e.g. the server's MaxSessions reached, or the connection dropped in between
          reject(
            new TransportError('unreachable', `${this.address} refused a session: ${error.message}`, {
              cause: error,
            }),
          );
        } else resolve(channel);
      });
    });
  }

  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    const client = await current?.catch(() => undefined);
    if (!client) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_WAIT_MS);
      client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      client.end();
    });
  }

  private connect(): Promise<Client> {
    const { host, port } = this.endpoint;
    const timeoutMs = this.endpoint.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      let ready = false;
      let hostKeyError: TransportError | undefined;

      const hostVerifier = (keyBlob: Buffer): boolean => {
        const presented = sshFingerprint(keyBlob);
        if (!this.pinned) {
          hostKeyError = new TransportError(
            'host-key',
            `SSH host ${host}:${port} has no pinned host key; refusing to connect. It presented ${presented}: ` +
              'check it out of band, then pin it in the config',
          );
          return false;
        }
        if (matchesPinnedKey(keyBlob, this.pinned)) return true;
        hostKeyError = new TransportError(
          'host-key',
          `SSH host key of ${host}:${port} does not match the pinned one: expected ${formatFingerprint(this.pinned)}, ` +
            `presented ${presented}; refusing to connect`,
        );
        return false;
      };

      // ssh2 emits 'error' for failures before and after 'ready'; a listener must stay for the client's life.
      client.on('error', (error: Error & { level?: string }) => {
        if (!ready) reject(hostKeyError ?? this.classify(error, timeoutMs));
      });
      client.on('close', () => {
        if (!ready)
          reject(
            hostKeyError ??
              new TransportError('unreachable', `${this.address} closed the connection during the handshake`),
          );
        // Forget a dropped connection so the next command reconnects.
        void this.current?.then(
          (c) => {
            if (c === client) this.current = undefined;
          },
          () => undefined,
        );
      });
      client.on('ready', () => {
        ready = true;
        resolve(client);
      });

      const config: ConnectConfig = {
        host,
        port,
        username: this.endpoint.user,
        privateKey: this.endpoint.privateKey,
        passphrase: this.endpoint.passphrase,
        hostVerifier,
        readyTimeout: timeoutMs,
        // Only the given key: no agent, no keyboard-interactive prompts.
        tryKeyboard: false,
        // Notice a silently dead peer on a long-lived connection instead of hanging until the deadline.
        keepaliveInterval: 15_000,
        keepaliveCountMax: 3,
      };
      try {
        client.connect(config);
      } catch (error) {
        reject(this.classify(error, timeoutMs));
      }
    });
  }

  private classify(error: unknown, timeoutMs: number): TransportError {
    const level = (error as { level?: unknown }).level;
    const reason = errorMessage(error);
    if (level === 'client-authentication') {
      return new TransportError('auth', `${this.address} rejected our key (${reason})`, { cause: error });
    }
    if (level === 'client-timeout') {
      return new TransportError('unreachable', `${this.address}: no SSH handshake within ${timeoutMs} ms`, {
        cause: error,
      });
    }
    if (level === 'client-socket' || level === 'client-dns' || isUnreachableError(error)) {
      return new TransportError('unreachable', `${this.address} is unreachable (${reason})`, {
        cause: error,
      });
    }
    if (level === 'handshake' || level === 'protocol') {
      // No common algorithms and the like: the same on every retry.
      return new TransportError('config', `SSH handshake with ${this.address} failed (${reason})`, {
        cause: error,
      });
    }
    return new TransportError('unreachable', `SSH connection to ${this.address} failed (${reason})`, {
      cause: error,
    });
  }
}
