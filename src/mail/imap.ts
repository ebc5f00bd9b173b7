/** Looks for the canary in a mailbox over IMAP (TLS verified, CA pinnable), by its unique token header. */
import { ImapFlow } from 'imapflow';
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

/** True when a message carrying this token is in the mailbox. One connection, one search. */
export async function mailboxHasToken(
  settings: ImapSettings,
  token: string,
  timeoutMs = 20_000,
): Promise<boolean> {
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
  });
  await client.connect();
  try {
    const lock = await client.getMailboxLock(settings.mailbox);
    try {
      const found = await client.search({ header: { [CANARY_HEADER]: token } }, { uid: true });
      return Array.isArray(found) && found.length > 0;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
}
