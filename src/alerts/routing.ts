/** Maps an alert to a runbook and a target through the config's routes. Pure. */
import type { Alert } from './body.js';

export interface AlertRoute {
  /** Labels that must all be equal (alertname and others). */
  match: Record<string, string>;
  runbook: string;
  /** A fixed target, or the label whose value names the target; otherwise the default target. */
  target?: string;
  targetLabel?: string;
}

export interface RoutingConfig {
  routes: AlertRoute[];
  defaultTarget: string;
  targets: ReadonlySet<string>;
}

export type RouteDecision =
  { kind: 'run'; runbook: string; target: string } | { kind: 'unrouted'; reason: string };

export function routeAlert(alert: Alert, config: RoutingConfig): RouteDecision {
  const route = config.routes.find((r) => Object.entries(r.match).every(([k, v]) => alert.labels[k] === v));
  const name = alert.labels.alertname ?? '(no alertname)';
  if (!route) return { kind: 'unrouted', reason: `no route matches alert ${name}` };
  const fromLabel = route.targetLabel ? alert.labels[route.targetLabel] : undefined;
  const target = route.target ?? fromLabel ?? config.defaultTarget;
  if (!config.targets.has(target)) {
    return { kind: 'unrouted', reason: `alert ${name} names target "${target}", which is not in the config` };
  }
  return { kind: 'run', runbook: route.runbook, target };
}
