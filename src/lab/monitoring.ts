/**
 * The lab's alert path from real metrics: Debian's `prometheus` scrapes the mail server's postfix exporter
 * and SMTP probes (both in the mail server container, published on 127.0.0.1; lab/images/mail) and evaluates
 * the shipped rules; Debian's `prometheus-alertmanager` routes their alerts to the mail-runbooks receiver.
 * Every config is generated from the shipped files of monitoring/ with only the lab's addresses, the token
 * file and the timings changed; the lab's rule file is the shipped one with each `for:` shortened, so an
 * alert fires within seconds instead of minutes. Both processes listen on loopback, keep their data in the
 * given folder and are stopped (SIGTERM, then SIGKILL after a bound) by `stop()`. Used by `npm start` (lab
 * mode), test/integration/alerts-from-metrics.test.ts and bench/recovery.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { isExecutable, onPath } from '../preflight/probes.js';
import type { Problem } from '../preflight/problems.js';
import { NAMES, type LabPorts } from './settings.js';

const MONITORING_DIR = fileURLToPath(new URL('../../monitoring/', import.meta.url));
export const SHIPPED = {
  rules: join(MONITORING_DIR, 'prometheus-rules.yml'),
  prometheus: join(MONITORING_DIR, 'prometheus.yml'),
  alertmanager: join(MONITORING_DIR, 'alertmanager.yml'),
} as const;

/** The Debian programs the lab runs, and the package each comes from. */
export const MONITORING_PROGRAMS = [
  { program: 'prometheus', pkg: 'prometheus' },
  { program: 'prometheus-alertmanager', pkg: 'prometheus-alertmanager' },
] as const;

/** Where each program is (PATH, then /usr/bin), or a problem naming the ones missing and how to install them. */
export async function monitoringBinaries(
  options: { usrBin?: string } = {},
): Promise<
  { ok: true; paths: Record<'prometheus' | 'alertmanager', string> } | { ok: false; problem: Problem }
> {
  const found = await Promise.all(
    MONITORING_PROGRAMS.map(async ({ program }) => {
      const usrBin = `${options.usrBin ?? '/usr/bin'}/${program}`;
      return (await onPath(program)) ?? ((await isExecutable(usrBin)) ? usrBin : undefined);
    }),
  );
  const missing = MONITORING_PROGRAMS.filter((_, i) => !found[i]);
  if (missing.length > 0)
    return {
      ok: false,
      problem: {
        problem: `${missing.map((m) => m.program).join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed: the lab's alert path (metrics → rules → Alertmanager → receiver) cannot run.`,
        fix: `install ${missing.length > 1 ? 'them' : 'it'}: \`sudo apt-get install ${missing.map((m) => m.pkg).join(' ')}\` (Debian), or set MRB_LAB_MONITORING=off.`,
      },
    };
  return { ok: true, paths: { prometheus: found[0]!, alertmanager: found[1]! } };
}

/**
 * `npm start`'s choice: MRB_LAB_MONITORING=off runs no monitoring; MRB_PROMETHEUS_PORT (9090) and
 * MRB_ALERTMANAGER_PORT (9093) move the two loopback ports.
 */
export function labMonitoringSettings(
  env: NodeJS.ProcessEnv = process.env,
): { enabled: false } | { enabled: true; prometheusPort: number; alertmanagerPort: number } {
  if (env.MRB_LAB_MONITORING?.trim() === 'off') return { enabled: false };
  const port = (name: string, value: string | undefined, fallback: number): number => {
    const raw = value?.trim();
    if (!raw) return fallback;
    const n = Number(raw);
    if (!/^\d{1,5}$/.test(raw) || n < 1024 || n > 65535)
      throw new Error(`${name}=${raw}: choose a port 1024..65535`);
    return n;
  };
  return {
    enabled: true,
    prometheusPort: port('MRB_PROMETHEUS_PORT', env.MRB_PROMETHEUS_PORT, 9090),
    alertmanagerPort: port('MRB_ALERTMANAGER_PORT', env.MRB_ALERTMANAGER_PORT, 9093),
  };
}

export interface MonitoringTimings {
  /** Prometheus's scrape and rule evaluation interval. */
  intervalSeconds: number;
  /** Each rule's `for:` in the lab's rule file (a shipped `for:` shorter than this is kept). */
  forSeconds: number;
  /** Alertmanager's group_wait and group_interval for the mail-runbooks route. */
  groupSeconds: number;
}

/** For `npm start`: alerts within a minute of a fault, and little load. */
export const LAB_TIMINGS: MonitoringTimings = { intervalSeconds: 5, forSeconds: 30, groupSeconds: 5 };

interface Rule {
  alert?: string;
  for?: string;
  [key: string]: unknown;
}

/** A Prometheus duration ("15m", "30s", "1h") in seconds. */
export function durationSeconds(text: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  let total = 0;
  const re = /(\d+)(ms|s|m|h|d|w|y)/g;
  let rest = text;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * units[m[2]!]!;
    rest = rest.replace(m[0], '');
  }
  if (rest !== '' || text === '') throw new Error(`not a Prometheus duration: '${text}'`);
  return total;
}

/** The shipped rules with every `for:` at most `forSeconds`; nothing else changes. */
export function labRules(shippedText: string, forSeconds: number): string {
  const rules = parse(shippedText) as { groups: { name: string; rules: Rule[] }[] };
  for (const group of rules.groups)
    for (const rule of group.rules)
      if (rule.for !== undefined && durationSeconds(rule.for) > forSeconds) rule.for = `${forSeconds}s`;
  return (
    `# Generated by src/lab/monitoring.ts from monitoring/prometheus-rules.yml: only each \`for:\` is shortened\n` +
    `# to at most ${forSeconds}s so the lab's alerts fire within seconds (do not edit; regenerated on every start).\n` +
    stringify(rules, { lineWidth: 0 })
  );
}

export interface LabScrapeTargets {
  /** The target name the alerts carry (the lab config's target). */
  target: string;
  ports: Pick<LabPorts, 'postfixExporter' | 'smtpProbes'>;
}

interface ScrapeJob {
  job_name: string;
  static_configs: { targets: string[]; labels?: Record<string, string> }[];
  relabel_configs?: { target_label?: string; replacement?: string; [key: string]: unknown }[];
  [key: string]: unknown;
}

/**
 * monitoring/prometheus.yml with the lab's addresses: the postfix exporter and the blackbox exporter on
 * their published ports; the relay probed by name from inside the mail server's network (where the mail
 * server stands), amavis on the container's own 127.0.0.1:10024 as shipped.
 */
export function labPrometheusConfig(
  shippedText: string,
  options: LabScrapeTargets & { rulesFile: string; alertmanager: string; timings: MonitoringTimings },
): string {
  const config = parse(shippedText) as {
    global: Record<string, string>;
    rule_files: string[];
    alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    scrape_configs: ScrapeJob[];
  };
  const every = `${options.timings.intervalSeconds}s`;
  config.global = {
    ...config.global,
    scrape_interval: every,
    evaluation_interval: every,
    scrape_timeout: every,
  };
  config.rule_files = [options.rulesFile];
  config.alerting.alertmanagers = [{ static_configs: [{ targets: [options.alertmanager] }] }];
  const probes = `127.0.0.1:${options.ports.smtpProbes}`;
  const targets: Record<string, string> = {
    postfix: `127.0.0.1:${options.ports.postfixExporter}`,
    'relay-smtp': `${NAMES.relayHost}:${NAMES.relayPort}`,
    'content-filter': '127.0.0.1:10024',
  };
  for (const job of config.scrape_configs) {
    const target = targets[job.job_name];
    if (!target) throw new Error(`${SHIPPED.prometheus}: job ${job.job_name} has no lab address`);
    job.static_configs = [{ targets: [target], labels: { target: options.target } }];
    for (const relabel of job.relabel_configs ?? [])
      if (relabel.target_label === '__address__') relabel.replacement = probes;
  }
  const missing = Object.keys(targets).filter((j) => !config.scrape_configs.some((c) => c.job_name === j));
  if (missing.length > 0) throw new Error(`${SHIPPED.prometheus} has no job ${missing.join(', ')}`);
  return `# Generated by src/lab/monitoring.ts from monitoring/prometheus.yml (do not edit).\n${stringify(config, { lineWidth: 0 })}`;
}

interface AlertmanagerConfig {
  route: { routes: { receiver: string; [key: string]: unknown }[] };
  receivers: {
    name: string;
    webhook_configs?: { url: string; http_config: { authorization: { credentials_file: string } } }[];
  }[];
}

/** monitoring/alertmanager.yml with the receiver's URL, the token file and the lab's grouping timings. */
export function labAlertmanagerConfig(
  shippedText: string,
  options: { receiverUrl: string; tokenFile: string; timings: MonitoringTimings },
): string {
  const config = parse(shippedText) as AlertmanagerConfig;
  const route = config.route.routes.find((r) => r.receiver === 'mail-runbooks');
  const webhook = config.receivers.find((r) => r.name === 'mail-runbooks')?.webhook_configs?.[0];
  if (!route || !webhook) throw new Error(`${SHIPPED.alertmanager} has no mail-runbooks route or webhook`);
  const group = `${options.timings.groupSeconds}s`;
  Object.assign(route, { group_wait: group, group_interval: group });
  webhook.url = `${options.receiverUrl.replace(/\/$/, '')}/alerts`;
  webhook.http_config.authorization.credentials_file = options.tokenFile;
  return `# Generated by src/lab/monitoring.ts from monitoring/alertmanager.yml (do not edit).\n${stringify(config, { lineWidth: 0 })}`;
}

export interface LabMonitoringOptions extends LabScrapeTargets {
  /** Configs and data (prometheus/, alertmanager/) go here. */
  dir: string;
  /** The receiver's base URL, e.g. http://127.0.0.1:9095. */
  receiverUrl: string;
  /** The file holding the receiver's bearer token (read by Alertmanager). */
  tokenFile: string;
  /** Loopback ports for Prometheus and Alertmanager. */
  prometheusPort: number;
  alertmanagerPort: number;
  timings?: MonitoringTimings;
  log?: (line: string) => void;
  /** Bound on each process becoming ready. */
  startTimeoutMs?: number;
}

export interface LabMonitoring {
  prometheusUrl: string;
  alertmanagerUrl: string;
  /** The lab's rule file in use. */
  rulesFile: string;
  /** Stops Alertmanager and Prometheus, waiting for each (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

interface Daemon {
  name: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

function startDaemon(name: string, argv: [string, ...string[]]): Daemon {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((ok) => {
    if (child.exitCode !== null || child.signalCode !== null) ok();
    child.once('exit', () => ok());
    child.once('error', () => ok());
  });
  return {
    name,
    child,
    output: () => tail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitReady(daemon: Daemon, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let spawnError: Error | undefined;
  daemon.child.once('error', (err) => (spawnError = err));
  while (Date.now() < deadline) {
    if (spawnError) throw new Error(`${daemon.name} did not start: ${spawnError.message}`);
    if (daemon.child.exitCode !== null)
      throw new Error(`${daemon.name} exited with ${daemon.child.exitCode}:\n${daemon.output()}`);
    const ready = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${daemon.name} was not ready at ${url} within ${timeoutMs} ms:\n${daemon.output()}`);
}

/** Writes the lab's configs and starts Alertmanager, then Prometheus; both ready when this returns. */
export async function startLabMonitoring(options: LabMonitoringOptions): Promise<LabMonitoring> {
  const binaries = await monitoringBinaries();
  if (!binaries.ok) throw new Error(`${binaries.problem.problem} ${binaries.problem.fix}`);
  const timings = options.timings ?? LAB_TIMINGS;
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const dirs = {
    prometheus: join(options.dir, 'prometheus'),
    alertmanager: join(options.dir, 'alertmanager'),
  };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true, mode: 0o700 });
  const alertmanagerAddress = `127.0.0.1:${options.alertmanagerPort}`;
  const prometheusAddress = `127.0.0.1:${options.prometheusPort}`;
  const files = {
    rules: join(options.dir, 'lab-rules.yml'),
    prometheus: join(options.dir, 'prometheus.yml'),
    alertmanager: join(options.dir, 'alertmanager.yml'),
  };
  await writeFile(files.rules, labRules(await readFile(SHIPPED.rules, 'utf8'), timings.forSeconds));
  await writeFile(
    files.prometheus,
    labPrometheusConfig(await readFile(SHIPPED.prometheus, 'utf8'), {
      ...options,
      rulesFile: files.rules,
      alertmanager: alertmanagerAddress,
      timings,
    }),
  );
  await writeFile(
    files.alertmanager,
    labAlertmanagerConfig(await readFile(SHIPPED.alertmanager, 'utf8'), { ...options, timings }),
    { mode: 0o600 },
  );

  const started: Daemon[] = [];
  const stopAll = async (): Promise<void> => {
    // Prometheus first: it must not send to an Alertmanager that is gone.
    for (const d of [...started].reverse()) await d.stop();
  };
  try {
    log(`monitoring: starting Alertmanager on ${alertmanagerAddress} (data in ${dirs.alertmanager})`);
    const alertmanager = startDaemon('prometheus-alertmanager', [
      binaries.paths.alertmanager,
      `--config.file=${files.alertmanager}`,
      `--storage.path=${dirs.alertmanager}`,
      `--web.listen-address=${alertmanagerAddress}`,
      `--web.external-url=http://${alertmanagerAddress}`,
      '--cluster.listen-address=', // no gossip port: one instance
      '--log.level=warn',
    ]);
    started.push(alertmanager);
    await waitReady(alertmanager, `http://${alertmanagerAddress}/-/ready`, timeoutMs);
    log(`monitoring: starting Prometheus on ${prometheusAddress} (data in ${dirs.prometheus})`);
    const prometheus = startDaemon('prometheus', [
      binaries.paths.prometheus,
      `--config.file=${files.prometheus}`,
      `--storage.tsdb.path=${dirs.prometheus}`,
      '--storage.tsdb.retention.time=2d',
      `--web.listen-address=${prometheusAddress}`,
      `--web.external-url=http://${prometheusAddress}`,
      // Firing alerts are re-sent at this pace (Alertmanager keeps them alive; the receiver deduplicates).
      `--rules.alert.resend-delay=${timings.intervalSeconds}s`,
      '--log.level=warn',
    ]);
    started.push(prometheus);
    await waitReady(prometheus, `http://${prometheusAddress}/-/ready`, timeoutMs);
  } catch (err) {
    await stopAll();
    throw err;
  }
  return {
    prometheusUrl: `http://${prometheusAddress}`,
    alertmanagerUrl: `http://${alertmanagerAddress}`,
    rulesFile: files.rules,
    stop: stopAll,
  };
}

export interface PrometheusAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
}

/** Prometheus's active alerts (pending and firing), from its API. */
export async function prometheusAlerts(prometheusUrl: string): Promise<PrometheusAlert[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/alerts`, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET ${prometheusUrl}/api/v1/alerts: HTTP ${res.status}`);
  return ((await res.json()) as { data: { alerts: PrometheusAlert[] } }).data.alerts;
}

/** One instant query's first value (undefined when the result is empty). */
export async function prometheusValue(prometheusUrl: string, query: string): Promise<number | undefined> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`, {
    signal: AbortSignal.timeout(5_000),
  });
  if (!res.ok) throw new Error(`query ${query}: HTTP ${res.status}`);
  const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
  const first = body.data.result[0];
  return first ? Number(first.value[1]) : undefined;
}
