/**
 * `npm start`: the whole local stack in one process tree.
 *  0. first, the checks (src/preflight/): the ports it will listen on are free, a Temporal CLI or Go is there,
 *     and (for the lab) a Docker engine answers, started when safe; each missing thing is one message saying
 *     what to do, said before anything slow starts;
 *  1. the target config: $MRB_CONFIG or ./mail-runbooks.yaml when present (missing or invalid: an error, never
 *     the lab); otherwise, in a checkout of the project, the local mail lab is brought up (images built once,
 *     then cached) and its generated .lab/target.yaml is the default target. The installed package, and
 *     MRB_LAB=off, have no lab: no config is an error that says what to do;
 *  2. the Temporal dev server (SQLite under .data/, Web UI on 8233) unless TEMPORAL_ADDRESS names another
 *     cluster; 3. the worker; 4. the config's schedules, created or updated idempotently; 5. the Alertmanager
 *     receiver when the config has an `alerts` section; 6. for the lab, its alert path from real metrics
 *     (src/lab/monitoring.ts): Debian's Prometheus scraping the mail server's postfix exporter and SMTP probes
 *     with the shipped rules, and Debian's Alertmanager sending to the receiver (MRB_LAB_MONITORING=off: none;
 *     MRB_PROMETHEUS_PORT 9090, MRB_ALERTMANAGER_PORT 9093; a missing program is said, and the rest runs).
 * Local ports and data: MRB_LOCAL_TEMPORAL_ADDRESS (127.0.0.1:7233), MRB_UI_PORT (8233), MRB_DATA_DIR (.data/temporal),
 * MRB_METRICS_ADDRESS (worker metrics, 127.0.0.1:9464; 'off' for none), MRB_LAB_PORTS (the lab's host ports,
 * e.g. smtp=22525,dns=20053).
 * Ctrl-C (or SIGTERM) stops Prometheus and Alertmanager, the receiver, the worker, then the server, and waits
 * for each: nothing is left.
 */
import { CLI_COMMAND } from './shared/cli-command.js';
import { dirname } from 'node:path';
import { temporalApprovalRuns } from './alerts/approval-runs.js';
import { receiverOptionsFromConfig } from './alerts/from-config.js';
import { temporalDispatcher } from './alerts/dispatch.js';
import { startReceiver, type Receiver } from './alerts/receiver.js';
import { scheduleSpecs } from './cli/schedules.js';
import {
  CONFIG_HINT,
  ConfigError,
  labFallbackAllowed,
  loadConfig,
  missingConfigMessage,
  resolveConfigPath,
} from './config/load.js';
import { labContext, labUp } from './lab/lab.js';
import { MATERIAL_FILES } from './lab/material.js';
import {
  labMonitoringSettings,
  monitoringBinaries,
  startLabMonitoring,
  type LabMonitoring,
} from './lab/monitoring.js';
import { labPaths, parsePorts } from './lab/settings.js';
import { LAB_RECEIVER_LISTEN } from './lab/target-config.js';
import { PreflightError, throwIfProblems } from './preflight/problems.js';
import { portProblems } from './preflight/probes.js';
import { startPortWants } from './preflight/start-ports.js';
import { temporalCliPreflight } from './temporal/binary.js';
import {
  connectClient,
  connectWorker,
  ensureSearchAttributes,
  temporalTarget,
} from './temporal/connection.js';
import { startDevServer, type DevServer } from './temporal/dev-server.js';
import { installWorkerMetrics } from './temporal/metrics.js';
import { ensureSchedules } from './temporal/schedules.js';
import { workflowCode } from './temporal/workflow-bundle.js';
import { createWorker, WORKFLOWS_PATH } from './worker.js';

const log = (line: string): void => console.error(line);

/** The config file to run with, or the lab (in a checkout, when none is given; brought up after the checks). */
function chooseConfig(): { path: string; lab: boolean } {
  const choice = resolveConfigPath();
  if (choice.source === 'env' || choice.source === 'cwd') {
    if (!choice.exists) throw new Error(missingConfigMessage(choice));
    log(`config: ${choice.path} (${choice.reason})`);
    return { path: choice.path, lab: false };
  }
  if (!labFallbackAllowed()) {
    const why = process.env.MRB_LAB === 'off' ? 'MRB_LAB=off' : 'the installed package has no lab';
    throw new Error(`no config given and ${why}: ${CONFIG_HINT}`);
  }
  return { path: labPaths().config, lab: true };
}

/**
 * Everything that would otherwise fail later, checked at once before anything slow starts: the ports this
 * process and its Temporal server listen on, and a Temporal CLI (or Go to build one). Docker is checked by
 * the lab itself. Throws one PreflightError listing each problem with what to do.
 */
async function preflight(
  chosen: { path: string; lab: boolean },
  target: ReturnType<typeof temporalTarget>,
  metricsAddress: string,
  monitoring: ReturnType<typeof labMonitoringSettings>,
): Promise<void> {
  const alerts = chosen.lab ? { listen: LAB_RECEIVER_LISTEN } : (await loadChosenConfig(chosen.path)).alerts;
  const wants = startPortWants({
    ...(target.mode === 'local'
      ? {
          temporal: {
            address: target.connectionOptions.address ?? '127.0.0.1:7233',
            uiPort: Number(process.env.MRB_UI_PORT ?? 8233),
          },
        }
      : {}),
    metricsAddress,
    ...(alerts ? { receiver: { ...alerts.listen, config: chosen.path, lab: chosen.lab } } : {}),
    ...(chosen.lab && monitoring.enabled ? { monitoring } : {}),
  });
  throwIfProblems([
    ...(await portProblems(wants)),
    target.mode === 'local' ? await temporalCliPreflight() : undefined,
  ]);
}

/** The config, loaded; an invalid one is an error that says how to see every problem. */
async function loadChosenConfig(path: string): Promise<Awaited<ReturnType<typeof loadConfig>>> {
  try {
    return await loadConfig(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new Error(
      `the config ${path} is not valid; fix it (\`${CLI_COMMAND} config check -c ${path}\` lists every problem):\n${err.message}`,
    );
  }
}

async function main(): Promise<void> {
  const chosen = chooseConfig();
  const target = temporalTarget();
  const metricsAddress = process.env.MRB_METRICS_ADDRESS ?? '127.0.0.1:9464';
  const monitoringSettings = labMonitoringSettings();
  await preflight(chosen, target, metricsAddress, monitoringSettings);
  let configPath = chosen.path;
  let labPorts: Awaited<ReturnType<typeof labUp>>['settings']['ports'] | undefined;
  if (chosen.lab) {
    log(
      'lab: no config given (MRB_CONFIG, ./mail-runbooks.yaml): using the local mail lab as the target (a real one: docs/deploy.md)',
    );
    const ports = parsePorts(process.env.MRB_LAB_PORTS ? [process.env.MRB_LAB_PORTS] : []);
    const up = await labUp(labContext({ log }), { ports }); // labUp logs its own progress and result
    configPath = up.config;
    labPorts = up.settings.ports;
  }
  process.env.MRB_CONFIG = configPath; // the worker's activities read the same file
  const config = await loadChosenConfig(configPath);

  // Temporal's worker metrics for Prometheus; must be set up before the first connection.
  if (metricsAddress !== 'off') log(`metrics: worker metrics at ${installWorkerMetrics(metricsAddress).url}`);

  let server: DevServer | undefined;
  let uiUrl: string | undefined = process.env.MRB_UI_URL;
  if (target.mode === 'local') {
    log('temporal: starting the local dev server (SQLite in .data/temporal) ...');
    // The address the client side uses (MRB_LOCAL_TEMPORAL_ADDRESS, default 127.0.0.1:7233) is where it listens.
    const [ip = '127.0.0.1', port = '7233'] = (target.connectionOptions.address ?? '').split(':');
    server = await startDevServer({
      log,
      ip,
      port: Number(port),
      uiPort: Number(process.env.MRB_UI_PORT ?? 8233),
      ...(process.env.MRB_DATA_DIR && { dataDir: process.env.MRB_DATA_DIR }),
    });
    uiUrl = server.uiUrl;
    log(`temporal: server at ${server.address}, database ${server.dbFile}`);
  } else {
    log(
      `temporal: using the cluster at ${target.connectionOptions.address ?? '(envconfig default)'}; no local server`,
    );
  }
  const client = await connectClient(target);
  if (target.mode !== 'local') await ensureSearchAttributes(client, target.namespace);

  const connection = await connectWorker(target);
  const code = workflowCode(WORKFLOWS_PATH);
  log(code.line);
  const worker = await createWorker(connection, target.namespace, {
    ...code.options,
    shutdownGraceTime: '10s',
  });
  const stopping = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log(`\n${signal}: stopping the receiver, the worker${server ? ' and the Temporal server' : ''} ...`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  const running = worker.run();
  log(`worker: running on task queue ${worker.options.taskQueue}`);

  for (const r of await ensureSchedules(client, scheduleSpecs(config)))
    log(
      `schedule: ${r.id} ${r.outcome}${r.replacedBy ? ` (per-target schedule replaced by ${r.replacedBy})` : ''}`,
    );

  let receiver: Receiver | undefined;
  const receiverOptions = await receiverOptionsFromConfig(config, dirname(configPath));
  if (receiverOptions) {
    receiver = await startReceiver({
      ...receiverOptions,
      dispatcher: temporalDispatcher(client),
      approvalRuns: temporalApprovalRuns(client),
      log,
    });
    log(
      `alerts: receiver at ${receiver.url} (Alertmanager webhook: ${receiver.url}/alerts; metrics ${receiver.url}/metrics)`,
    );
    log(
      receiverOptions.approval
        ? `approvals: endpoint at ${receiver.url}/approve/<workflowId>?request=<id> for ${receiverOptions.approval.approvers.length} approver(s) with a token`
        : 'approvals: no endpoint (it needs approvers with a token and a target with approval.receiverKey)',
    );
  } else {
    log('alerts: the config has no alerts section: no receiver');
  }

  let monitoring: LabMonitoring | undefined;
  if (labPorts && receiver && monitoringSettings.enabled) {
    const binaries = await monitoringBinaries();
    if (!binaries.ok) {
      log(`monitoring: not started. ${binaries.problem.problem}\n  fix: ${binaries.problem.fix}`);
    } else {
      try {
        monitoring = await startLabMonitoring({
          ...monitoringSettings,
          dir: `${dirname(configPath)}/monitoring`,
          target: config.defaultTarget ?? 'lab',
          ports: labPorts,
          receiverUrl: receiver.url,
          tokenFile: `${dirname(configPath)}/${MATERIAL_FILES.receiverToken}`,
          log,
        });
        log(
          `monitoring: Prometheus at ${monitoring.prometheusUrl}/alerts (scraping the mail server's postfix exporter ` +
            `127.0.0.1:${labPorts.postfixExporter} and SMTP probes 127.0.0.1:${labPorts.smtpProbes}; rules ${monitoring.rulesFile}), ` +
            `Alertmanager at ${monitoring.alertmanagerUrl} → ${receiver.url}/alerts`,
        );
      } catch (err) {
        // The alert path is an extra of the lab: the rest runs without it, and the reason is said.
        log(`monitoring: not started: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } else if (labPorts && monitoringSettings.enabled === false) {
    log('monitoring: MRB_LAB_MONITORING=off: no Prometheus or Alertmanager');
  }

  if (uiUrl) log(`\nTemporal Web UI: ${uiUrl}/namespaces/${target.namespace}/workflows\n`);
  log('Ready. Ctrl-C stops everything.');

  try {
    await Promise.race([stopping, running]);
  } finally {
    await monitoring?.stop(); // even when the worker failed: no Prometheus is left behind
  }
  await receiver?.close();
  if (worker.getState() === 'RUNNING') worker.shutdown();
  await running.catch((err: unknown) => log(`worker: ${(err as Error).message}`));
  await connection.close();
  await client.connection.close();
  await server?.stop();
  log('stopped.');
}

main()
  // Everything we started is stopped; idle keep-alive sockets (Docker API, HTTP agents) must not hold the
  // process open after that.
  .then(() => process.exit(0))
  .catch((err: unknown) => {
    // A missing prerequisite is said as it is, with what to do; anything else is a failure.
    if (err instanceof PreflightError) console.error(`npm start: ${err.message}`);
    else console.error(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
