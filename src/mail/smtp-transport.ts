/**
 * The one nodemailer SMTP transport the worker sends mail with (the canary, the email channel): TLS as the
 * port's convention says (465 implicit, 587 STARTTLS required, or none), the server certificate always
 * verified (TLS 1.2 or later, against a pinned CA when one is given), and every wait bounded.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { SmtpServerSettings } from './smtp-session.js';

export interface SmtpTimeouts {
  /** Connecting and waiting for the greeting. */
  connectMs: number;
  /** Silence on an open connection. */
  socketMs: number;
}

export function smtpTransport(server: SmtpServerSettings, timeouts: SmtpTimeouts): Transporter {
  return nodemailer.createTransport({
    host: server.host,
    port: server.port,
    secure: server.tls === 'implicit',
    requireTLS: server.tls === 'starttls',
    ignoreTLS: server.tls === 'none',
    auth: server.user && server.password ? { user: server.user, pass: server.password } : undefined,
    tls: { ca: server.ca, servername: server.servername, minVersion: 'TLSv1.2' },
    connectionTimeout: timeouts.connectMs,
    greetingTimeout: timeouts.connectMs,
    socketTimeout: timeouts.socketMs,
  });
}
