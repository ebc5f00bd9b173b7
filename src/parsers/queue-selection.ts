/**
 * Queue surgery's selection (qmail-remove's idea): which queued messages a request names, by sender,
 * recipient, destination domain, age, deferral reason and queue. Pure: the workflow validates the request
 * with it, the activities filter `postqueue -j` with it. Criteria combine with AND; recipient, domain and
 * reason must hold for one and the same recipient of a message.
 */
import { z } from 'zod';
import { normaliseDelayReason } from './delay-reason.js';
import type { QueuedMessage } from './postqueue-json.js';

export const SURGERY_ACTIONS = ['hold', 'release', 'delete'] as const;
export type SurgeryAction = (typeof SURGERY_ACTIONS)[number];

export const SELECTABLE_QUEUES = ['maildrop', 'incoming', 'active', 'deferred', 'hold'] as const;

/** The null sender of bounces: postqueue -j shows it as "" or "MAILER-DAEMON". */
export const NULL_SENDER = '<>';

const DOMAIN =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const LOCAL_PART = /^[^\s@<>"(),;:\\[\]]{1,64}$/;

function isAddress(value: string): boolean {
  const at = value.lastIndexOf('@');
  return at > 0 && LOCAL_PART.test(value.slice(0, at)) && DOMAIN.test(value.slice(at + 1));
}

const lower = z.string().trim().toLowerCase();
const address = lower.refine(isAddress, 'must be one mail address, like user@example.com');
const domain = lower
  .transform((d) => d.replace(/^@/, ''))
  .refine((d) => DOMAIN.test(d), 'must be a domain name, like example.com');
// From the CLI every parameter is a string: accept "true"/"false" and numbers written as text.
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const minutes = z.coerce
  .number({ error: 'must be a number of minutes' })
  .int('must be a whole number of minutes')
  .min(0, 'must be 0 or more')
  .max(366 * 24 * 60, 'must be at most a year');

const requestSchema = z
  .strictObject({
    sender: z.union([z.literal(NULL_SENDER), address]).optional(),
    senderDomain: domain.optional(),
    recipient: address.optional(),
    domain: domain.optional(),
    olderThanMinutes: minutes.optional(),
    reason: z
      .string()
      .trim()
      .min(3, 'must be at least 3 characters of the deferral reason')
      .max(200, 'must be at most 200 characters')
      .optional(),
    queue: z.enum(SELECTABLE_QUEUES).optional(),
    action: z.enum(SURGERY_ACTIONS).default('hold'),
    dryRun: flag.default(false),
  })
  .refine(
    (r) =>
      [r.sender, r.senderDomain, r.recipient, r.domain, r.olderThanMinutes, r.reason].some(
        (c) => c !== undefined,
      ),
    {
      message:
        'name at least one of sender, senderDomain, recipient, domain, olderThanMinutes, reason (olderThanMinutes=0 selects every message)',
    },
  )
  .refine((r) => !(r.action === 'release' && r.queue !== undefined && r.queue !== 'hold'), {
    message: 'release takes messages from the hold queue: leave queue out or set it to hold',
    path: ['queue'],
  })
  .refine((r) => !(r.action === 'hold' && r.queue === 'hold'), {
    message: 'these messages are on hold already: choose another queue or the release/delete action',
    path: ['queue'],
  });

export type SelectionCriteria = Omit<z.infer<typeof requestSchema>, 'action' | 'dryRun'>;
export type SurgeryRequest = z.infer<typeof requestSchema>;

/** What the action step acts on: the approved request, frozen at the moment the selection was shown. */
export interface SurgerySpec extends SurgeryRequest {
  /**
   * Epoch seconds of the shown selection: ages are measured from it, and mail that arrived after it is
   * never touched, so the action cannot reach messages the approver did not see.
   */
  selectedAt: number;
}

export class SurgeryRequestError extends Error {}

/** Validates runbook params into a request; the message names every bad parameter. */
export function parseSurgeryRequest(params: unknown): SurgeryRequest {
  const parsed = requestSchema.safeParse(params ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') return `unknown parameter ${i.keys.map((k) => `'${k}'`).join(', ')}`;
    const path = i.path.join('.');
    return path ? `params.${path} ${i.message}` : i.message;
  });
  throw new SurgeryRequestError(`queue surgery: ${problems.join('; ')}`);
}

/** One line for people: "sender flood@lab.test, older than 60 min, in deferred". */
export function describeCriteria(c: SelectionCriteria): string {
  const parts = [
    c.sender !== undefined && `sender ${c.sender}`,
    c.senderDomain !== undefined && `sender domain ${c.senderDomain}`,
    c.recipient !== undefined && `recipient ${c.recipient}`,
    c.domain !== undefined && `recipient domain ${c.domain}`,
    c.olderThanMinutes !== undefined && `older than ${c.olderThanMinutes} min`,
    c.reason !== undefined && `deferral reason containing "${c.reason}"`,
    c.queue !== undefined && `in the ${c.queue} queue`,
  ];
  return parts.filter(Boolean).join(', ');
}

const domainOf = (addr: string): string => addr.slice(addr.lastIndexOf('@') + 1).toLowerCase();
const inDomain = (d: string, wanted: string): boolean => d === wanted || d.endsWith(`.${wanted}`);

/**
 * The predicate for a request. Only messages the action can change are selected: hold skips mail already
 * on hold, release takes only held mail. Reasons match as a case-insensitive substring of the raw reason
 * or of its normalised shape (the key the queue summary lists), so either can be pasted.
 */
export function selectionMatcher(spec: SurgerySpec): (m: QueuedMessage) => boolean {
  const reason = spec.reason?.toLowerCase();
  const oldestArrival =
    spec.olderThanMinutes === undefined ? undefined : spec.selectedAt - spec.olderThanMinutes * 60;
  // A big queue repeats a handful of reasons: normalise each distinct one once (bounded).
  const shapes = new Map<string, string>();
  const shapeOf = (raw: string): string => {
    let shape = shapes.get(raw);
    if (shape === undefined) {
      if (shapes.size >= 10_000) shapes.clear();
      shape = normaliseDelayReason(raw).toLowerCase();
      shapes.set(raw, shape);
    }
    return shape;
  };
  const recipientMatches = (r: QueuedMessage['recipients'][number]): boolean =>
    (spec.recipient === undefined || r.address.toLowerCase() === spec.recipient) &&
    (spec.domain === undefined || inDomain(domainOf(r.address), spec.domain)) &&
    (reason === undefined ||
      (r.delayReason !== undefined &&
        (r.delayReason.toLowerCase().includes(reason) || shapeOf(r.delayReason).includes(reason))));
  const perRecipient = spec.recipient !== undefined || spec.domain !== undefined || reason !== undefined;

  return (m) => {
    if (m.arrivalTime > spec.selectedAt) return false;
    if (oldestArrival !== undefined && m.arrivalTime > oldestArrival) return false;
    if (spec.queue !== undefined && m.queueName !== spec.queue) return false;
    if (spec.action === 'hold' && m.queueName === 'hold') return false;
    if (spec.action === 'release' && m.queueName !== 'hold') return false;
    if (spec.sender !== undefined) {
      const sender = m.sender.toLowerCase();
      const isNull = sender === '' || sender === 'mailer-daemon';
      if (spec.sender === NULL_SENDER ? !isNull : sender !== spec.sender) return false;
    }
    if (spec.senderDomain !== undefined && !inDomain(domainOf(m.sender), spec.senderDomain)) return false;
    return !perRecipient || m.recipients.some(recipientMatches);
  };
}
