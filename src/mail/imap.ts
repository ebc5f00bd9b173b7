/** Looks for the canary in a mailbox over IMAP (TLS verified, CA pinnable), by its unique token header. */
import { ImapFlow, type MailboxLockObject } from 'imapflow';
import { CANARY_HEADER } from './submission.js';

export interface ImapSettings {
  host: string;
  port: number;
  tls: 'implicit' | 'starttls';
  ca?: string;
  servername?: string;
  user: string;
  password: string;
  mailbox: string;
}

/** Connections one watch may open: the first, and a new one after each of up to two drops. */
export const MAX_IMAP_CONNECTIONS = 3;

interface Session {
  client: ImapFlow;
  lock: MailboxLockObject;
}

/**
 * One logged-in connection with the mailbox selected, searched again at each poll (a NOOP first, so the
 * server reports what arrived since): a wait of many polls costs one TLS handshake and login, not one per
 * poll. A dropped connection is replaced, at most MAX_IMAP_CONNECTIONS in all; `close` logs out.
 */
export class MailboxWatch {
  private session: Session | undefined;
  private opened = 0;

  constructor(
    private readonly settings: ImapSettings,
    private readonly timeoutMs = 20_000,
  ) {}

  /** Connections opened so far. */
  get connections(): number {
    return this.opened;
  }

  /** True when a message carrying this token is in the mailbox. */
  async hasToken(token: string): Promise<boolean> {
    for (;;) {
      const session = this.session?.client.usable ? this.session : await this.reopen();
      try {
        await session.client.noop();
        const found = await session.client.search({ header: { [CANARY_HEADER]: token } }, { uid: true });
        return Array.isArray(found) && found.length > 0;
      } catch (err) {
        // The server refused the search itself: a new connection would not change that.
        if (session.client.usable || this.opened >= MAX_IMAP_CONNECTIONS) throw err;
      }
    }
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session) await end(session);
  }

  private async reopen(): Promise<Session> {
    await this.close();
    if (this.opened >= MAX_IMAP_CONNECTIONS) {
      throw new Error(
        `IMAP connection to ${this.settings.host}:${this.settings.port} dropped ${this.opened} times`,
      );
    }
    this.opened++;
    this.session = await open(this.settings, this.timeoutMs);
    return this.session;
  }
}

async function open(settings: ImapSettings, timeoutMs: number): Promise<Session> {
  const client = new ImapFlow({
    host: settings.host,
    port: settings.port,
    secure: settings.tls === 'implicit',
    doSTARTTLS: settings.tls === 'starttls' ? true : undefined,
    auth: { user: settings.user, pass: settings.password },
    tls: { ca: settings.ca, servername: settings.servername, minVersion: 'TLSv1.2' },
    logger: false,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    // The watch polls with NOOP: an IDLE between polls would only add the round trips that break it.
    disableAutoIdle: true,
  });
  // A connection that drops between polls emits 'error': without a listener that would end the worker.
  // The next poll sees it unusable and reconnects.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return { client, lock: await client.getMailboxLock(settings.mailbox) };
  } catch (err) {
    client.close();
    throw err;
  }
}

async function end({ client, lock }: Session): Promise<void> {
  lock.release();
  if (!client.usable) return client.close();
  await client.logout().catch(() => client.close());
}
