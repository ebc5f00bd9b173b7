/**
 * Canary submission over SMTP with AUTH. TLS mode follows the port's convention (465 implicit TLS, 587
 * STARTTLS, required); the server certificate is always verified, against a pinned CA when one is given.
 */
import type { SmtpServerSettings } from './smtp-session.js';
import { smtpTransport } from './smtp-transport.js';

/** Submission always encrypts and always authenticates. */
export interface SubmissionSettings extends SmtpServerSettings {
  tls: 'starttls' | 'implicit';
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
  const transport = smtpTransport(settings, { connectMs: timeoutMs, socketMs: timeoutMs });
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
