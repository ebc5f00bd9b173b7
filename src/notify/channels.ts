/**
 * Notification channels: a chat webhook (Slack-compatible JSON) and email through its own SMTP server,
 * because the mail system under repair may be the thing that is broken. Each channel is tried a bounded
 * number of times; a failure is reported, never thrown, so it cannot fail a runbook.
 */
import type { SmtpServerSettings } from '../mail/smtp-session.js';
import { smtpTransport } from '../mail/smtp-transport.js';
import { redactText, secretPieces } from '../parsers/redact.js';
import type { RenderedNotification } from './message.js';

export interface WebhookChannel {
  kind: 'webhook';
  url: string;
}

export interface EmailChannel extends SmtpServerSettings {
  kind: 'email';
  from: string;
  to: string[];
}

export type Channel = WebhookChannel | EmailChannel;

export interface DeliveryResult {
  channel: Channel['kind'];
  ok: boolean;
  attempts: number;
  error?: string;
}

async function sendWebhook(
  channel: WebhookChannel,
  message: RenderedNotification,
  timeoutMs: number,
): Promise<void> {
  const response = await fetch(channel.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      text: message.text,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: message.subject.slice(0, 150) } },
        { type: 'section', text: { type: 'mrkdwn', text: message.text.slice(0, 2900) } },
      ],
    }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`webhook answered HTTP ${response.status}`);
}

async function sendEmail(
  channel: EmailChannel,
  message: RenderedNotification,
  timeoutMs: number,
): Promise<void> {
  const transport = smtpTransport(channel, { connectMs: timeoutMs, socketMs: timeoutMs });
  try {
    await transport.sendMail({
      from: channel.from,
      to: channel.to,
      subject: message.subject,
      text: message.text,
    });
  } finally {
    transport.close();
  }
}

/** Where a URL points without its path and query (which may carry a token): safe to log. */
function redactUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}

export async function deliver(
  channel: Channel,
  message: RenderedNotification,
  options: { attempts?: number; backoffMs?: number; timeoutMs?: number } = {},
): Promise<DeliveryResult> {
  const attempts = options.attempts ?? 3;
  let lastError = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      if (channel.kind === 'webhook') await sendWebhook(channel, message, options.timeoutMs ?? 10_000);
      else await sendEmail(channel, message, options.timeoutMs ?? 15_000);
      return { channel: channel.kind, ok: true, attempts: attempt };
    } catch (err) {
      // fetch's own messages may quote the URL (credentials, token path): hide it wherever it appears.
      const message =
        channel.kind === 'webhook'
          ? redactText((err as Error).message, secretPieces(channel.url))
          : (err as Error).message;
      lastError = `${channel.kind === 'webhook' ? redactUrl(channel.url) : `${channel.host}:${channel.port}`}: ${message}`;
      if (attempt < attempts)
        await new Promise((r) => setTimeout(r, (options.backoffMs ?? 1000) * 2 ** (attempt - 1)));
    }
  }
  return { channel: channel.kind, ok: false, attempts, error: lastError };
}
