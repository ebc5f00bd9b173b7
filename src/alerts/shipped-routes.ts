/**
 * The alerts monitoring/prometheus-rules.yml ships for runbooks, and the runbook each one starts (the rule's
 * `runbook` annotation; test/unit/monitoring-routes.test.ts keeps the two equal). The lab's config and
 * `init` write their routes from this list.
 */
import type { RunbookName } from '../shared/runbooks.js';
import type { AlertRoute } from './routing.js';

export const SHIPPED_ALERT_RUNBOOKS: readonly { alertname: string; runbook: RunbookName }[] = [
  { alertname: 'PostfixQueueBacklog', runbook: 'queueBacklog' },
  { alertname: 'PostfixQueueStale', runbook: 'queueBacklog' },
  { alertname: 'PostfixShowqUnreachable', runbook: 'statusCheck' },
  { alertname: 'SmtpRelayDown', runbook: 'relayUnresponsive' },
  { alertname: 'SmtpRelayDeferring', runbook: 'relayUnresponsive' },
  { alertname: 'PostfixInboundDeferred', runbook: 'inboundDeferred' },
];

/** One route per shipped alert, the target named by the alert's `target` label. */
export function shippedRoutes(): AlertRoute[] {
  return SHIPPED_ALERT_RUNBOOKS.map(({ alertname, runbook }) => ({
    match: { alertname },
    runbook,
    targetLabel: 'target',
  }));
}
