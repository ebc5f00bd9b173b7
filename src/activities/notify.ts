/**
 * Notification activity: approval requests, reminders and final reports to every configured channel.
 * A failing channel is retried inside (bounded) and logged; this activity never fails the runbook.
 */
import { log } from '@temporalio/activity';
import type { Channel } from '../notify/channels.js';
import { deliver } from '../notify/channels.js';
import { renderNotification, type NotificationEvent } from '../notify/message.js';
import { temporalTarget } from '../temporal/connection.js';
import { secret, workerConfig } from './context.js';

export type { NotificationEvent } from '../notify/message.js';

async function channels(): Promise<Channel[]> {
  const notifications = (await workerConfig()).config.notifications;
  const found: Channel[] = [];
  if (notifications?.webhook) found.push({ kind: 'webhook', url: await secret(notifications.webhook.url) });
  const email = notifications?.email;
  if (email) {
    found.push({
      kind: 'email',
      host: email.smtp.host,
      port: email.smtp.port,
      tls: email.smtp.tls,
      ca: email.smtp.ca && (await secret(email.smtp.ca)),
      servername: email.smtp.servername,
      user: email.smtp.user,
      password: email.smtp.password && (await secret(email.smtp.password)),
      from: email.from,
      to: email.to,
    });
  }
  return found;
}

export async function notify(event: NotificationEvent): Promise<{ delivered: string[]; failed: string[] }> {
  const config = (await workerConfig()).config;
  const uiBaseUrl = config.notifications?.uiBaseUrl;
  const message = renderNotification(
    event,
    uiBaseUrl ? { baseUrl: uiBaseUrl, namespace: temporalTarget().namespace } : undefined,
    config.alerts?.publicUrl,
  );
  const configured = await channels().catch((err: unknown) => {
    log.warn('notification channels unusable', { error: (err as Error).message });
    return [];
  });
  const results = await Promise.all(configured.map((c) => deliver(c, message)));
  for (const r of results.filter((x) => !x.ok))
    log.warn('notification channel failed', { channel: r.channel, attempts: r.attempts, error: r.error });
  log.info('notification', {
    kind: event.kind,
    runbook: event.runbook,
    target: event.target,
    workflowId: event.workflowId,
  });
  return {
    delivered: results.filter((r) => r.ok).map((r) => r.channel),
    failed: results.filter((r) => !r.ok).map((r) => r.channel),
  };
}
