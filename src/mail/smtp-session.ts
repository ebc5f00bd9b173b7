/**
 * A bare SMTP client session for the probes (open-relay audit, SMTP path diagnosis). nodemailer sends mail
 * well but hides the layers; a probe needs each one raw: the TCP connect, the TLS handshake and its
 * certificate, the greeting, the EHLO lines, the exact reply to each command. Bounded: one deadline for the
 * whole session and a cap on buffered server output. The transcript never holds secrets: callers pass a
 * display form for commands that carry them.
 */
import { Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { formatReply, takeSmtpReply, type SmtpReply } from '../parsers/smtp-reply.js';

const MAX_BUFFER = 64 * 1024;

/** Where and how to reach an SMTP server: the shape the probes, the canary and the email channel share. */
export interface SmtpServerSettings {
  host: string;
  port: number;
  tls: 'starttls' | 'implicit' | 'none';
  /** PEM CA to trust instead of the system store. */
  ca?: string;
  /** Name the certificate must carry (default: host). */
  servername?: string;
  user?: string;
  password?: string;
}

export class SmtpSession {
  readonly transcript: string[] = [];
  private socket: Socket;
  private buffer = '';
  private waiter: ((r: SmtpReply) => void) | undefined;
  private failer: ((e: Error) => void) | undefined;
  private failure: Error | undefined;
  private readonly deadline: NodeJS.Timeout;
  private readonly onData = (chunk: string): void => {
    this.buffer += chunk;
    if (this.buffer.length > MAX_BUFFER) this.fail(new Error(`server sent more than ${MAX_BUFFER} bytes`));
    else this.pump();
  };
  private readonly onError = (err: Error): void => this.fail(err);
  private readonly onClose = (): void => this.fail(new Error('connection closed by the server'));

  private constructor(timeoutMs: number) {
    this.socket = new Socket();
    this.deadline = setTimeout(() => this.fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  }

  /** Opens a TCP connection; the session's deadline starts now and covers everything after. */
  static async connect(host: string, port: number, timeoutMs: number): Promise<SmtpSession> {
    const session = new SmtpSession(timeoutMs);
    const socket = session.socket;
    socket.setEncoding('latin1');
    socket.on('error', session.onError);
    try {
      await new Promise<void>((resolve, reject) => {
        session.failer = reject;
        socket.connect({ host, port }, () => resolve());
      });
    } catch (err) {
      session.close();
      throw err;
    }
    session.failer = undefined;
    socket.on('data', session.onData);
    socket.on('close', session.onClose);
    session.transcript.push(`connected to ${host}:${port} from ${socket.localAddress ?? '?'}`);
    return session;
  }

  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.failer?.(err);
  }

  private pump(): void {
    if (!this.waiter) return;
    try {
      const next = takeSmtpReply(this.buffer);
      if (!next) return;
      this.buffer = next.rest;
      this.transcript.push(`< ${formatReply(next.reply)}`);
      const w = this.waiter;
      this.waiter = undefined;
      w(next.reply);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** The next complete reply (multi-line replies joined). */
  reply(): Promise<SmtpReply> {
    return new Promise<SmtpReply>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.waiter = resolve;
      this.failer = reject;
      this.pump();
    });
  }

  /** Sends one command line; `display` replaces it in the transcript (for AUTH). */
  send(line: string, display = line): Promise<SmtpReply> {
    this.transcript.push(`> ${display}`);
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  /**
   * Upgrades the connection to TLS (implicit TLS right after connect, or after a 220 to STARTTLS). The
   * handshake verifies the certificate unless the options say otherwise; its failure rejects.
   */
  async startTls(options: ConnectionOptions): Promise<TLSSocket> {
    if (this.failure) throw this.failure;
    const plain = this.socket;
    plain.removeListener('data', this.onData);
    plain.removeListener('close', this.onClose);
    const secure = tlsConnect({ ...options, socket: plain });
    secure.setEncoding('latin1');
    secure.on('error', this.onError);
    await new Promise<void>((resolve, reject) => {
      this.failer = reject;
      secure.once('secureConnect', () => resolve());
    });
    this.failer = undefined;
    secure.on('data', this.onData);
    secure.on('close', this.onClose);
    this.socket = secure;
    this.transcript.push(`TLS ${secure.getProtocol() ?? '?'} ${secure.getCipher()?.name ?? ''}`.trim());
    return secure;
  }

  /** Says QUIT (without waiting) and closes; safe to call more than once. */
  close(quit = false): void {
    clearTimeout(this.deadline);
    const socket = this.socket;
    socket.removeAllListeners('close');
    socket.on('error', () => undefined);
    if (quit && !this.failure && socket.writable) {
      this.transcript.push('> QUIT');
      socket.write('QUIT\r\n');
    }
    socket.end();
    socket.destroy();
  }
}

/** An address literal of our own end: valid EHLO syntax without naming any host. */
export function ehloName(localAddress: string | undefined): string {
  const local = (localAddress ?? '').replace(/^::ffff:(?=\d+\.)/, '');
  if (!local) return '[127.0.0.1]';
  return local.includes(':') ? `[IPv6:${local}]` : `[${local}]`;
}
