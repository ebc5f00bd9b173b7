/**
 * The runbook registry: each runbook's name (its workflow type) and one-line description, declared once.
 * The CLI's help, config validation (alert routes, schedules), the worker, the docs and the tests read it
 * from here; each workflow file passes its name to `defineRunbook`, so the compiler rejects a name that is
 * not registered, and test/unit/registry.test.ts fails when a registered runbook has no workflow or an
 * exported workflow is neither registered nor listed in INTERNAL_WORKFLOWS.
 * Pure data, so workflow code and everything else may import it.
 */
import { FLEET_WORKFLOW, SCHEDULED_FLEET_WORKFLOW } from './fleet.js';
import { GUARD_WORKFLOW } from './guard.js';
import { SCHEDULED_START_WORKFLOW } from './start.js';
export const RUNBOOKS = {
  statusCheck: 'read-only status of the mail server, queue, logs and relay',
  queueBacklog: 'queue backlog / send failures: relay, key, SSH, flush, drain, verify',
  relayUnresponsive: 'relay unresponsive: watchdog, logs, restart, flush, verify',
  inboundDeferred: 'inbound mail deferred: amavis, re-injection, restart, requeue, verify',
  endToEndVerification: 'send a canary and follow it to delivery',
  startStop: 'start or stop the mail server or the relay (params: component, action)',
  openRelayAudit: 'read-only audit: mynetworks, relay restrictions, submission AUTH, live relay probe',
  queueSurgery:
    'select queued mail by sender, recipient, domain, age or reason; hold (default), release or delete it',
  relayRoutingCheck:
    'read-only: which relay the canary sender domain uses, unused relay maps, SASL credentials',
  smtpPathDiagnosis:
    'read-only, layer by layer: DNS, TCP, TLS, EHLO, AUTH, submission, delivery; stops at the first broken one',
} as const;

export type RunbookName = keyof typeof RUNBOOKS;

/**
 * Workflows the worker serves that are not runbooks (helpers other workflows or schedules start): exported
 * from src/workflows/index.ts, but not offered to people, the CLI or config.
 */
export const INTERNAL_WORKFLOWS: readonly string[] = [
  SCHEDULED_START_WORKFLOW,
  SCHEDULED_FLEET_WORKFLOW,
  GUARD_WORKFLOW,
  FLEET_WORKFLOW,
];

export const RUNBOOK_NAMES = Object.keys(RUNBOOKS) as [RunbookName, ...RunbookName[]];

export function isRunbookName(name: string): name is RunbookName {
  return Object.hasOwn(RUNBOOKS, name);
}
