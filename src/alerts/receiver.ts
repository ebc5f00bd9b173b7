/**
 * The Alertmanager webhook receiver. It authenticates the caller, limits and validates the body (bad input:
 * a 4xx that says what is wrong, nothing started), maps each alert to a runbook and target, and hands it to
 * the dispatcher: firing alerts start one run per (runbook, target), resolved ones reach the running run.
 * Under /approve/ it serves the approval endpoint (approval-endpoint.ts), with its own authentication.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Server } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { APPROVE_PATH, approvalEndpoint, type ApprovalEndpointConfig } from './approval-endpoint.js';
import type { ApprovalRuns } from './approval-runs.js';
import { parseWebhook, type Alert } from './body.js';
import { HttpError, readBody } from './http.js';
import { routeAlert, type RoutingConfig } from './routing.js';

export interface Dispatcher {
  /** Starts the run, or finds the one already running for (runbook, target), whoever started it. */
  fire(
    runbook: string,
    target: string,
    alert: Alert,
  ): Promise<{ workflowId: string; outcome: 'started' | 'deduplicated'; runId?: string; message?: string }>;
  /** Tells the running run that its alert resolved; 'no-run' when none is running. */
  resolve(
    runbook: string,
    target: string,
    alert: Alert,
  ): Promise<{ workflowId: string; outcome: 'delivered' | 'no-run' }>;
  /** Stops what the dispatcher does in the background (watching open runs); called by Receiver.close. */
  close?(): void;
}

export type ReceiverAuth = { bearerToken: string } | { basic: { user: string; password: string } };

export interface ReceiverOptions {
  host: string;
  port: number;
  /**
   * Serve HTTPS with this certificate chain and key (PEM) instead of plain HTTP: the bearer token, approver
   * tokens and decisions then never cross the network in clear.
   */
  tls?: { cert: string; key: string };
  auth: ReceiverAuth;
  routing: RoutingConfig;
  dispatcher: Dispatcher;
  /** Largest body read; default 1 MiB (Alertmanager's largest group, 1,000 alerts, is about 0.5 MB). */
  maxBodyBytes?: number;
  /**
   * How long one request may spend handing its alerts to Temporal before the receiver answers 503 with
   * Retry-After (Alertmanager then sends the group again; starts are idempotent per (runbook, target)).
   */
  dispatchTimeoutMs?: number;
  log?: (line: string) => void;
  /** The approval endpoint's approvers and keys; without them it answers 404 "not configured". */
  approval?: ApprovalEndpointConfig;
  /** How the approval endpoint reads runs and sends decisions (Temporal, or a fake in unit tests). */
  approvalRuns?: ApprovalRuns;
}

export interface Receiver {
  url: string;
  server: Server;
  registry: Registry;
  close(): Promise<void>;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
const sameSecret = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

export function authorized(header: string | undefined, auth: ReceiverAuth): boolean {
  if (!header) return false;
  if ('bearerToken' in auth)
    return header.startsWith('Bearer ') && sameSecret(header.slice(7), auth.bearerToken);
  if (!header.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return (
    colon > 0 &&
    sameSecret(decoded.slice(0, colon), auth.basic.user) &&
    sameSecret(decoded.slice(colon + 1), auth.basic.password)
  );
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_DISPATCH_TIMEOUT_MS = 15_000;
/** Seconds a client is asked to wait before sending again when Temporal cannot be reached. */
export const RETRY_AFTER_SECONDS = 10;

const unavailable = (message: string): HttpError =>
  new HttpError(503, message, 'unavailable', { 'retry-after': String(RETRY_AFTER_SECONDS) });

/** `work`, or a 503 once `ms` have passed (work still running then is left to finish or fail on its own). */
async function withinDeadline<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(unavailable(`could not dispatch within ${ms} ms: Temporal does not answer`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  const log = options.log ?? ((line: string) => console.error(line));
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const dispatchTimeoutMs = options.dispatchTimeoutMs ?? DEFAULT_DISPATCH_TIMEOUT_MS;
  const registry = new Registry();
  const received = new Counter({
    name: 'mrb_alerts_received_total',
    help: 'Alerts received, by status',
    labelNames: ['status'],
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'mrb_alerts_rejected_total',
    help: 'Requests or alerts rejected, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  const deduplicated = new Counter({
    name: 'mrb_alerts_deduplicated_total',
    help: 'Firing alerts that joined a run already going',
    registers: [registry],
  });
  const started = new Counter({
    name: 'mrb_runs_started_total',
    help: 'Runs started by alerts, by runbook',
    labelNames: ['runbook'],
    registers: [registry],
  });
  const resolvedDelivered = new Counter({
    name: 'mrb_alerts_resolved_delivered_total',
    help: 'Resolved alerts delivered to a running run',
    registers: [registry],
  });

  const approvalRequests = new Counter({
    name: 'mrb_approval_requests_total',
    help: 'Requests to the approval endpoint, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const handleApproval = approvalEndpoint({
    ...(options.approval && { config: options.approval }),
    ...(options.approvalRuns && { runs: options.approvalRuns }),
    maxBodyBytes: limit,
    log,
  });

  async function handleAlerts(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!authorized(req.headers.authorization, options.auth))
      throw new HttpError(401, 'missing or wrong credentials', 'unauthorized');
    if (!String(req.headers['content-type'] ?? '').includes('application/json')) {
      throw new HttpError(415, 'content-type must be application/json', 'content-type');
    }
    const text = await readBody(req, limit);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new HttpError(400, `body is not JSON: ${(err as Error).message}`, 'not-json');
    }
    const parsed = parseWebhook(json);
    if (!parsed.ok)
      throw new HttpError(400, `not an Alertmanager v4 webhook body: ${parsed.error}`, 'invalid-body');

    const results = await withinDeadline(dispatchTimeoutMs, dispatchAll(parsed.webhook.alerts));
    send(res, 200, { results });
  }

  /** Each alert to its run. A firing (runbook, target) already handed over in this group is not sent again. */
  async function dispatchAll(alerts: Alert[]): Promise<Array<Record<string, unknown>>> {
    const firedInGroup = new Map<string, { workflowId: string }>();
    const results = [];
    for (const alert of alerts) {
      received.inc({ status: alert.status });
      const route = routeAlert(alert, options.routing);
      const name = alert.labels.alertname;
      if (route.kind === 'unrouted') {
        rejected.inc({ reason: 'unrouted' });
        results.push({
          alertname: name,
          fingerprint: alert.fingerprint,
          outcome: 'unrouted',
          reason: route.reason,
        });
        continue;
      }
      const key = `${route.runbook}/${route.target}`;
      const fired = firedInGroup.get(key);
      let result;
      if (alert.status === 'firing') {
        result = fired
          ? { workflowId: fired.workflowId, outcome: 'deduplicated' as const }
          : await options.dispatcher.fire(route.runbook, route.target, alert);
        firedInGroup.set(key, result);
      } else {
        firedInGroup.delete(key);
        result = await options.dispatcher.resolve(route.runbook, route.target, alert);
      }
      if (result.outcome === 'started') started.inc({ runbook: route.runbook });
      if (result.outcome === 'deduplicated') deduplicated.inc();
      if (result.outcome === 'delivered') resolvedDelivered.inc();
      log(
        `alerts: ${name ?? '?'} ${alert.status} -> ${route.runbook} on ${route.target}: ${result.outcome} (${result.workflowId})`,
      );
      results.push({
        alertname: name,
        fingerprint: alert.fingerprint,
        runbook: route.runbook,
        target: route.target,
        ...result,
      });
    }
    return results;
  }

  const listener: RequestListener = (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const handle = async (): Promise<void> => {
      if (req.method === 'GET' && path === '/healthz') return send(res, 200, { ok: true });
      if (req.method === 'GET' && path === '/metrics') {
        res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
        return;
      }
      if (path?.startsWith(APPROVE_PATH)) {
        approvalRequests.inc({ outcome: await handleApproval(req, res) });
        return;
      }
      if (path !== '/alerts') throw new HttpError(404, 'not found: POST alerts to /alerts', 'not-found');
      if (req.method !== 'POST') throw new HttpError(405, 'use POST', 'method');
      await handleAlerts(req, res);
    };
    handle().catch((err: unknown) => {
      if (err instanceof HttpError) {
        rejected.inc({ reason: err.reason });
        // The rest of a refused body is not read: close the connection rather than leave it half-read.
        if (err.status === 413) res.setHeader('connection', 'close');
        if (err.status === 503) log(`alerts: ${err.message}`);
        send(res, err.status, { error: err.message }, err.headers);
      } else {
        // Temporal unreachable and the like: 503 makes Alertmanager retry later, so nothing is lost.
        const failure = unavailable(`could not dispatch: ${(err as Error).message}`);
        log(`alerts: ${failure.message}`);
        rejected.inc({ reason: failure.reason });
        send(res, failure.status, { error: failure.message }, failure.headers);
      }
    });
  };
  const server: Server = options.tls
    ? createTlsServer({ cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, listener)
    : createServer(listener);

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      resolve({
        url: `${options.tls ? 'https' : 'http'}://${options.host}:${port}`,
        server,
        registry,
        close: () =>
          new Promise<void>((done) => {
            options.dispatcher.close?.();
            server.close(() => done());
          }),
      });
    });
  });
}
