/**
 * Canary submission over SMTP with AUTH. TLS mode follows the port's convention (465 implicit TLS, 587
 * STARTTLS, required); the server certificate is always verified, against a pinned CA when one is given.
 */
import nodemailer from 'nodemailer';

export interface SubmissionSettings {
  host: string;
  port: number;
  tls: 'starttls' | 'implicit';
  /** PEM of the CA to trust (the lab CA, a private CA); omitted means the system's trust store. */
  ca?: string;
  /** Name to check the certificate against when host is an address. */
  servername?: string;
  user: string;
  password: string;
}

export interface CanaryMessage {
  from: string;
  to: string;
  token: string;
}

export interface Acceptance {
  queueId: string;
  messageId: string;
  response: string;
  acceptanceMs: number;
}

export const CANARY_HEADER = 'X-Mail-Runbooks-Canary';

/** Postfix answers `250 2.0.0 Ok: queued as 4XyZ...`: acceptance is that queue id, not delivery. */
export function queueIdFromResponse(response: string): string | undefined {
  return /queued as ([0-9A-Za-z]+)/.exec(response)?.[1];
}

export async function submitCanary(
  settings: SubmissionSettings,
  message: CanaryMessage,
  timeoutMs = 30_000,
): Promise<Acceptance> {
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.tls === 'implicit',
    requireTLS: settings.tls === 'starttls',
    auth: { user: settings.user, pass: settings.password },
    tls: { ca: settings.ca, servername: settings.servername, minVersion: 'TLSv1.2' },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  const started = Date.now();
  try {
    const info = await transport.sendMail({
      from: message.from,
      to: message.to,
      subject: `mail-runbooks canary ${message.token}`,
      text: `End-to-end verification by mail-runbooks.\nToken: ${message.token}\n`,
      headers: { [CANARY_HEADER]: message.token },
    });
    const response = String(info.response ?? '');
    const queueId = queueIdFromResponse(response);
    if (!queueId) throw new Error(`the server accepted the canary but named no queue id: "${response}"`);
    return { queueId, messageId: String(info.messageId ?? ''), response, acceptanceMs: Date.now() - started };
  } finally {
    transport.close();
  }
}
