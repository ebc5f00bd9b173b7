/**
 * The Alertmanager webhook receiver. It authenticates the caller, limits and validates the body (bad input:
 * a 4xx that says what is wrong, nothing started), maps each alert to a runbook and target, and hands it to
 * the dispatcher: firing alerts start one run per (runbook, target), resolved ones reach the running run.
 * Under /approve/ it serves the approval endpoint (approval-endpoint.ts), with its own authentication.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
}

export type ReceiverAuth = { bearerToken: string } | { basic: { user: string; password: string } };

export interface ReceiverOptions {
  host: string;
  port: number;
  auth: ReceiverAuth;
  routing: RoutingConfig;
  dispatcher: Dispatcher;
  maxBodyBytes?: number;
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

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  const log = options.log ?? ((line: string) => console.error(line));
  const limit = options.maxBodyBytes ?? 256 * 1024;
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

    const results = [];
    for (const alert of parsed.webhook.alerts) {
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
      const result =
        alert.status === 'firing'
          ? await options.dispatcher.fire(route.runbook, route.target, alert)
          : await options.dispatcher.resolve(route.runbook, route.target, alert);
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
    send(res, 200, { results });
  }

  const server = createServer((req, res) => {
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
        send(res, err.status, { error: err.message });
      } else {
        // Temporal unreachable and the like: 503 makes Alertmanager retry later, so nothing is lost.
        log(`alerts: ${(err as Error).message}`);
        rejected.inc({ reason: 'unavailable' });
        send(res, 503, { error: `could not dispatch: ${(err as Error).message}` });
      }
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      resolve({
        url: `http://${options.host}:${port}`,
        server,
        registry,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
