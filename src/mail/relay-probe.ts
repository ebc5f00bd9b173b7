/**
 * The open-relay probe: an unauthenticated SMTP session, from where the worker runs, to the mail server's
 * public port 25. It says EHLO, MAIL FROM an outside sender, RCPT TO an outside recipient and reads the
 * answer; then RSET and QUIT. No DATA is ever sent, so no mail is queued whatever the answer. Plain TCP on
 * purpose (port 25 without STARTTLS is what a spammer would use). Bounded: one deadline for the session and
 * a cap on buffered server output.
 */
import type { SmtpReply } from '../parsers/smtp-reply.js';
import { ehloName, SmtpSession } from './smtp-session.js';

export interface RelayProbeSettings {
  host: string;
  port: number;
  /** MAIL FROM and RCPT TO: addresses in domains the server should not relay for. */
  from: string;
  to: string;
  timeoutMs?: number;
}

export interface RelayProbeResult {
  /** Our address as the server sees it, when it is the local end of the socket (no NAT). */
  localAddress?: string;
  greeting?: SmtpReply;
  /** The first reply that ended the test: MAIL refused, or the RCPT answer. */
  mail?: SmtpReply;
  rcpt?: SmtpReply;
  /** Commands and replies, one line each (no secrets: the session never authenticates). */
  transcript: string[];
}

/** A failure to reach or talk to the server (connection refused, timeout, garbage): retryable. */
export class RelayProbeError extends Error {
  constructor(
    message: string,
    readonly transcript: readonly string[],
  ) {
    super(message);
    this.name = 'RelayProbeError';
  }
}

export async function probeRelay(settings: RelayProbeSettings): Promise<RelayProbeResult> {
  let session: SmtpSession | undefined;
  const transcript: string[] = [];
  try {
    session = await SmtpSession.connect(settings.host, settings.port, settings.timeoutMs ?? 20_000);
    const result: RelayProbeResult = { transcript: session.transcript };
    if (session.localAddress) result.localAddress = session.localAddress;
    result.greeting = await session.reply();
    if (result.greeting.code !== 220) return result;
    const helo = ehloName(session.localAddress);
    const ehlo = await session.send(`EHLO ${helo}`);
    if (ehlo.code !== 250) await session.send(`HELO ${helo}`);
    result.mail = await session.send(`MAIL FROM:<${settings.from}>`);
    if (result.mail.code >= 200 && result.mail.code < 300) {
      result.rcpt = await session.send(`RCPT TO:<${settings.to}>`);
      await session.send('RSET').catch(() => undefined);
    }
    session.close(true);
    return result;
  } catch (err) {
    throw new RelayProbeError(
      `SMTP session with ${settings.host}:${settings.port} failed: ${(err as Error).message}`,
      session?.transcript ?? transcript,
    );
  } finally {
    session?.close();
  }
}
