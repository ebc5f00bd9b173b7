/** Alertmanager's webhook body, version "4" (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). */
import { z } from 'zod';

const labelSet = z.record(z.string(), z.string());

export const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet,
  annotations: labelSet.default({}),
  startsAt: z.string(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

export const webhookSchema = z.object({
  version: z.literal('4'),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().nonnegative().default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labelSet.default({}),
  commonLabels: labelSet.default({}),
  commonAnnotations: labelSet.default({}),
  externalURL: z.string().default(''),
  alerts: z.array(alertSchema).min(1).max(1000),
});

export type Alert = z.infer<typeof alertSchema>;
export type Webhook = z.infer<typeof webhookSchema>;

/** Parses a body, or says precisely what is wrong (path: message; ...). */
export function parseWebhook(json: unknown): { ok: true; webhook: Webhook } | { ok: false; error: string } {
  const result = webhookSchema.safeParse(json);
  if (result.success) return { ok: true, webhook: result.data };
  const error = result.error.issues
    .slice(0, 10)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(body)'}: ${issue.message}`)
    .join('; ');
  return { ok: false, error };
}
