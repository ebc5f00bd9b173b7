import type { Alert } from '../../src/alerts/body.js';
import { startReceiver, type Receiver, type ReceiverOptions } from '../../src/alerts/receiver.js';

export interface TestReceiverOptions extends Partial<Omit<ReceiverOptions, 'auth' | 'routing'>> {
  /** Alertmanager's bearer token. */
  token: string;
  /** The targets alerts may name; the first is the default for alerts without a `target` label. */
  targets: string[];
  /** alertname → runbook; each alert's target comes from its `target` label. */
  routes: Record<string, string>;
  /** Where the receiver's log lines go. */
  logTo?: string[];
}

/** The receiver on a free loopback port, routed the way the tests' alerts are labelled. */
export function startTestReceiver(options: TestReceiverOptions): Promise<Receiver> {
  const { token, targets, routes, logTo, ...rest } = options;
  if (!rest.dispatcher) throw new Error('startTestReceiver: a dispatcher is required');
  return startReceiver({
    host: '127.0.0.1',
    port: 0,
    log: (line) => logTo?.push(line),
    ...rest,
    dispatcher: rest.dispatcher,
    auth: { bearerToken: token },
    routing: {
      defaultTarget: targets[0]!,
      targets: new Set(targets),
      routes: Object.entries(routes).map(([alertname, runbook]) => ({
        match: { alertname },
        runbook,
        targetLabel: 'target',
      })),
    },
  });
}

/**
 * The JSON an Alertmanager (webhook version 4) posts for `alerts`, given as they are (a test may send a
 * malformed one); `envelope` sets or overrides the group's own fields (groupKey, status, labels...).
 */
export function webhookBody(alerts: Array<Partial<Alert>>, envelope: Record<string, unknown> = {}): string {
  return JSON.stringify({
    version: '4',
    groupKey: '{}:{}',
    truncatedAlerts: 0,
    status: alerts[0]?.status ?? 'firing',
    receiver: 'mail-runbooks',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    alerts,
    ...envelope,
  });
}
