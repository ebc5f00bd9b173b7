/** The one nodemailer transport (canary and email channel): TLS by the port's convention, auth only with both parts. */
import { describe, expect, it } from 'vitest';
import type { SmtpServerSettings } from '../../src/mail/smtp-session.js';
import { smtpTransport } from '../../src/mail/smtp-transport.js';

function optionsOf(server: SmtpServerSettings): Record<string, unknown> {
  const transport = smtpTransport(server, { connectMs: 1_000, socketMs: 2_000 });
  transport.close();
  return (transport as unknown as { transporter: { options: Record<string, unknown> } }).transporter.options;
}

const server: SmtpServerSettings = { host: '127.0.0.1', port: 587, tls: 'starttls' };

describe('smtpTransport', () => {
  it('requires STARTTLS on starttls, verifies the certificate and bounds every wait', () => {
    expect(optionsOf({ ...server, ca: 'PEM', servername: 'mail.example' })).toMatchObject({
      secure: false,
      requireTLS: true,
      ignoreTLS: false,
      tls: { ca: 'PEM', servername: 'mail.example', minVersion: 'TLSv1.2' },
      connectionTimeout: 1_000,
      greetingTimeout: 1_000,
      socketTimeout: 2_000,
    });
  });

  it('uses implicit TLS on implicit, and no TLS on none', () => {
    expect(optionsOf({ ...server, port: 465, tls: 'implicit' })).toMatchObject({
      secure: true,
      requireTLS: false,
      ignoreTLS: false,
    });
    expect(optionsOf({ ...server, port: 25, tls: 'none' })).toMatchObject({
      secure: false,
      requireTLS: false,
      ignoreTLS: true,
    });
  });

  it('authenticates only when both user and password are given', () => {
    expect(optionsOf({ ...server, user: 'canary', password: 'pw' }).auth).toEqual({
      user: 'canary',
      pass: 'pw',
    });
    expect(optionsOf({ ...server, user: 'canary' }).auth).toBeUndefined();
    expect(optionsOf(server).auth).toBeUndefined();
  });
});
