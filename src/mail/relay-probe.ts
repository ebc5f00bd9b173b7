/**
 * The open-relay probe: an unauthenticated SMTP session, from where the worker runs, to the mail server's
 * public port 25. It says EHLO, MAIL FROM an outside sender, RCPT TO an outside recipient and reads the
 * answer; then RSET and QUIT. No DATA is ever sent, so no mail is queued whatever the answer. Plain TCP on
 * purpose (port 25 without STARTTLS is what a spammer would use). Bounded: one deadline for the session and
 * a cap on buffered server output.
 */
import { Socket } from 'node:net';
import { formatReply, takeSmtpReply, type SmtpReply } from '../parsers/smtp-reply.js';

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

const MAX_BUFFER = 64 * 1024;

export async function probeRelay(settings: RelayProbeSettings): Promise<RelayProbeResult> {
  const timeoutMs = settings.timeoutMs ?? 20_000;
  const transcript: string[] = [];
  const socket = new Socket();
  let buffer = '';
  let waiter: ((r: SmtpReply) => void) | undefined;
  let failer: ((e: Error) => void) | undefined;
  let failure: Error | undefined;

  const fail = (err: Error): void => {
    failure ??= err;
    failer?.(err);
  };
  const pump = (): void => {
    if (!waiter) return;
    try {
      const next = takeSmtpReply(buffer);
      if (!next) return;
      buffer = next.rest;
      transcript.push(`< ${formatReply(next.reply)}`);
      const w = waiter;
      waiter = undefined;
      w(next.reply);
    } catch (err) {
      fail(err as Error);
    }
  };
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_BUFFER) fail(new Error(`server sent more than ${MAX_BUFFER} bytes`));
    else pump();
  });
  socket.on('error', (err) => fail(err));
  socket.on('close', () => fail(new Error('connection closed by the server')));
  const deadline = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);

  const reply = (): Promise<SmtpReply> =>
    new Promise<SmtpReply>((resolve, reject) => {
      if (failure) return reject(failure);
      waiter = resolve;
      failer = reject;
      pump();
    });
  const send = (line: string): Promise<SmtpReply> => {
    transcript.push(`> ${line}`);
    socket.write(`${line}\r\n`);
    return reply();
  };

  try {
    await new Promise<void>((resolve, reject) => {
      failer = reject;
      socket.connect({ host: settings.host, port: settings.port }, () => resolve());
    });
    transcript.push(`connected to ${settings.host}:${settings.port} from ${socket.localAddress ?? '?'}`);
    const result: RelayProbeResult = { transcript };
    if (socket.localAddress) result.localAddress = socket.localAddress;
    result.greeting = await reply();
    if (result.greeting.code !== 220) return result;
    // An address literal of our own end: valid EHLO syntax without naming any host.
    const local = (socket.localAddress ?? '').replace(/^::ffff:(?=\d+\.)/, '');
    const helo = local.includes(':') ? `[IPv6:${local}]` : `[${local}]`;
    const ehlo = await send(`EHLO ${helo}`);
    if (ehlo.code !== 250) await send(`HELO ${helo}`);
    result.mail = await send(`MAIL FROM:<${settings.from}>`);
    if (result.mail.code >= 200 && result.mail.code < 300) {
      result.rcpt = await send(`RCPT TO:<${settings.to}>`);
      await send('RSET').catch(() => undefined);
    }
    transcript.push('> QUIT');
    socket.write('QUIT\r\n');
    return result;
  } catch (err) {
    throw new RelayProbeError(
      `SMTP session with ${settings.host}:${settings.port} failed: ${(err as Error).message}`,
      transcript,
    );
  } finally {
    clearTimeout(deadline);
    socket.removeAllListeners('close');
    socket.on('error', () => undefined);
    socket.end();
    socket.destroy();
  }
}
