/**
 * Nightly verification over a fleet (issue 14, point 4: 20 lab targets in < 2x the time of one).
 *
 * The lab's mail server is target `lab`. For the run, lighter mail servers join it as targets `lab-02` ...:
 * containers of the lab's mail image with the lab mail server's files (canary account, relay credentials,
 * certificate), with the content filter (amavis) off, each publishing only its submission port on
 * 127.0.0.1. All of them relay through the lab's relay to the lab's destination mailbox, so every target's
 * canary crosses real Postfix, the relay and IMAP.
 *
 * Two config schedules of `endToEndVerification`, as `npm start` ensures them, are triggered by hand: one
 * over `lab` alone (the baseline) and one over every target (`label=bench=fleet`). Each time is from the
 * trigger to the end of the fleet the schedule started; the two alternate, ROUNDS times.
 *
 *   flock /tmp/mrb-lab.lock npm run bench -- fleet-nightly [--targets 20] [--rounds 3] [--max-concurrent 20]
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type Docker from 'dockerode';
import { parse, stringify } from 'yaml';
import { scheduleSpecs } from '../src/cli/schedules.js';
import { loadConfig } from '../src/config/load.js';
import { containerSpecs } from '../src/lab/containers.js';
import { dexecOk, inspectContainer, pollUntil } from '../src/lab/docker.js';
import { IMAGES } from '../src/lab/images.js';
import { labContext, labNetwork, labUp } from '../src/lab/lab.js';
import { ensureMaterial } from '../src/lab/material.js';
import { LAB_LABEL, NETWORK } from '../src/lab/settings.js';
import { tar } from '../src/lab/tar.js';
import type { FleetReport, ScheduledFleetResult } from '../src/shared/fleet.js';
import { ensureSchedules, scheduleId, triggerSchedule } from '../src/temporal/schedules.js';
import { createWorker } from '../src/worker.js';
import { freePort } from '../test/helpers/ports.js';
import { withBenchDevServer } from './dev-server.js';

const BENCH_LABEL = 'org.mail-runbooks.bench';
const RUNBOOK = 'endToEndVerification';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    'max-concurrent': { type: 'string' },
  },
});
const TARGETS = Number(values.targets);
const ROUNDS = Number(values.rounds);
const MAX_CONCURRENT = Number(values['max-concurrent'] ?? values.targets);
for (const [name, n, max] of [
  ['--targets', TARGETS, 100],
  ['--rounds', ROUNDS, 10],
  ['--max-concurrent', MAX_CONCURRENT, 100],
] as const) {
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new Error(`${name} must be a whole number from 1 to ${max}`);
}

const pad = (i: number) => String(i).padStart(2, '0');
const extraName = (i: number) => `mrb-bench-fleet-${pad(i)}`;

/** A lighter copy of the lab's mail server (lab image, its files), publishing submission on `port`. */
function lightMailServer(
  mail: Docker.ContainerCreateOptions,
  i: number,
  port: number,
): Docker.ContainerCreateOptions {
  return {
    ...mail,
    name: extraName(i),
    Hostname: `mail${pad(i)}`,
    // The image's labels include the lab's (org.mail-runbooks.lab=1): overridden, so that `npm run lab` neither
    // lists nor removes these; this bench does.
    Labels: { [BENCH_LABEL]: 'fleet', [LAB_LABEL]: 'bench' },
    ExposedPorts: { '587/tcp': {} },
    HostConfig: {
      ...mail.HostConfig,
      PortBindings: { '587/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
      Memory: 512 * 1024 * 1024,
    },
    NetworkingConfig: { EndpointsConfig: { [NETWORK]: { Aliases: [`mail${pad(i)}.lab.test`] } } },
  };
}

async function removeExtras(docker: Docker): Promise<void> {
  const ours = await docker.listContainers({ all: true, filters: { label: [`${BENCH_LABEL}=fleet`] } });
  await Promise.all(ours.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })));
}

/** Starts the extra mail servers; returns each one's submission port. */
async function startExtras(
  docker: Docker,
  mail: Docker.ContainerCreateOptions,
  files: Parameters<typeof tar>[0],
) {
  const ports = new Map<number, number>();
  for (let i = 2; i <= TARGETS; i++) {
    const port = await freePort();
    const container = await docker.createContainer(lightMailServer(mail, i, port));
    await container.putArchive(tar(files), { path: '/' });
    await container.start();
    ports.set(i, port);
  }
  await Promise.all(
    [...ports.keys()].map(async (i) => {
      await pollUntil(
        `${extraName(i)} to start its mail services`,
        300_000,
        async () => {
          const info = await inspectContainer(docker, extraName(i));
          if (!info?.State.Running) throw new Error(`${extraName(i)} is ${info?.State.Status ?? 'gone'}`);
          await dexecOk(docker, extraName(i), ['test', '-e', '/var/lib/lab/ready']);
          return true;
        },
        2000,
      );
      // Lighter: no content filter (amavis stays up, idle: stopping it takes long under load).
      await dexecOk(docker, extraName(i), ['postconf', '-e', 'content_filter=']);
      // Postfix's master may still be settling just after the ready mark: reload until it answers.
      await pollUntil(
        `${extraName(i)}'s Postfix to reload`,
        60_000,
        async () => {
          await dexecOk(docker, extraName(i), ['postfix', 'reload']);
          return true;
        },
        1000,
      );
    }),
  );
  return ports;
}

/** The parts of a lab target the bench changes (the config file as written by `npm run lab -- up`). */
interface LabTarget {
  name: string;
  labels?: Record<string, string>;
  mailServer: { docker: { container: string } };
  canary: { submission: { port: number } };
}

/** The lab's config with the extra targets added and labelled, and the two schedules. */
async function writeBenchConfig(labConfig: string, ports: Map<number, number>): Promise<string> {
  const doc = parse(await readFile(labConfig, 'utf8')) as {
    targets: LabTarget[];
    schedules?: unknown[];
  };
  const lab = doc.targets.find((t) => t.name === 'lab');
  if (!lab) throw new Error(`${labConfig} has no target named lab`);
  lab.labels = { ...lab.labels, bench: 'fleet' };
  for (const [i, port] of ports) {
    const copy = structuredClone(lab);
    copy.name = `lab-${pad(i)}`;
    copy.mailServer.docker.container = extraName(i);
    copy.canary.submission.port = port;
    doc.targets.push(copy);
  }
  const schedule = (name: string, targets: unknown) => ({
    name,
    runbook: RUNBOOK,
    cron: '0 0 1 1 *', // never during the bench: only triggered
    timezone: 'UTC',
    targets,
    maxConcurrent: MAX_CONCURRENT,
    maxFailures: 3,
  });
  doc.schedules = [schedule('bench-one', ['lab']), schedule('bench-fleet', 'label=bench=fleet')];
  // Beside the lab's config: its secret references are relative to that folder.
  const path = join(dirname(labConfig), `bench-fleet-${randomUUID().slice(0, 8)}.yaml`);
  await writeFile(path, stringify(doc), { mode: 0o600 });
  return path;
}

/** Triggers the schedule and waits for the fleet it starts to end; returns seconds and the fleet's report. */
async function runSchedule(client: Client, id: string): Promise<{ seconds: number; report: FleetReport }> {
  const handle = client.schedule.getHandle(id);
  const before = (await handle.describe()).info.recentActions.length;
  const t0 = Date.now();
  await triggerSchedule(client, id);
  const starter = await pollUntil(
    `${id} to start its workflow`,
    60_000,
    async () => {
      const actions = (await handle.describe()).info.recentActions;
      if (actions.length <= before) throw new Error('not yet');
      return actions[actions.length - 1]!.action.workflow.workflowId;
    },
    100,
  );
  const started = (await client.workflow.getHandle(starter).result()) as ScheduledFleetResult;
  if (started.outcome !== 'started') throw new Error(`${id}: ${started.message}`);
  const report = (await client.workflow.getHandle(started.workflowId).result()) as FleetReport;
  return { seconds: (Date.now() - t0) / 1000, report };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const ctx = labContext();
  const up = await labUp(ctx);
  const material = await ensureMaterial(ctx.paths, () => {});
  const network = await labNetwork(ctx);
  if (!network) throw new Error(`the lab network ${NETWORK} is missing after lab up`);
  // The lab image's mail server spec, whichever mail server the lab itself runs.
  const mail = containerSpecs(network, { ports: up.settings.ports }, IMAGES, material).find(
    (s) => s.role === 'mailserver',
  )!;
  await removeExtras(ctx.docker);
  let configPath: string | undefined;
  try {
    const t0 = Date.now();
    const ports = await startExtras(ctx.docker, mail.create, mail.files);
    console.error(`${TARGETS - 1} lighter mail servers up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    configPath = await writeBenchConfig(up.config, ports);
    process.env.MRB_CONFIG = configPath;
    const specs = scheduleSpecs(await loadConfig(configPath));
    const fleetSpec = specs.find((s) => s.name === 'bench-fleet')!;
    if (fleetSpec.targets.length !== TARGETS)
      throw new Error(`label=bench=fleet picked ${fleetSpec.targets.length} targets, not ${TARGETS}`);

    await withBenchDevServer('fleet', async (server, client) => {
      const connection = await NativeConnection.connect({ address: server.address });
      const taskQueue = `bench-fleet-${randomUUID()}`;
      const worker = await createWorker(connection, 'default', { taskQueue });
      const rows: { round: number; one: number; fleet: number; verdicts: string }[] = [];
      await worker.runUntil(async () => {
        await ensureSchedules(client, specs, { taskQueue });
        for (let round = 1; round <= ROUNDS; round++) {
          // Alternate which goes first, so neither always runs on a machine still busy from the other.
          const order = round % 2 ? (['one', 'fleet'] as const) : (['fleet', 'one'] as const);
          const took: Record<string, { seconds: number; report: FleetReport }> = {};
          for (const which of order) {
            took[which] = await runSchedule(client, scheduleId({ name: `bench-${which}` }));
            const r = took[which];
            console.error(
              `round ${round}, ${which === 'one' ? '1 target' : `${TARGETS} targets`}: ${r.seconds.toFixed(1)} s, ${r.report.verdict}`,
            );
            if (r.report.verdict !== 'ok') {
              const bad = r.report.targets.filter((t) => t.failed).map((t) => `${t.target}: ${t.detail}`);
              throw new Error(`the fleet did not verify every target:\n${bad.join('\n')}`);
            }
          }
          const verdicts = took.fleet!.report.targets.map((t) => t.verdict ?? t.state);
          rows.push({
            round,
            one: took.one!.seconds,
            fleet: took.fleet!.seconds,
            verdicts: `${verdicts.filter((v) => v === 'healthy').length}/${TARGETS} healthy`,
          });
        }
      });
      await connection.close();
      console.log(
        `nightly verification (${RUNBOOK}) through a config schedule's fleet, ${TARGETS} lab targets (1 lab mail server + ${TARGETS - 1} lighter ones), maxConcurrent ${MAX_CONCURRENT}; dev server ${server.address}`,
      );
      console.log(
        'round   1 target (s)   20 targets (s)   ratio   fleet verdicts'.replace('20', String(TARGETS)),
      );
      for (const r of rows)
        console.log(
          `${String(r.round).padStart(5)} ${r.one.toFixed(1).padStart(14)} ${r.fleet.toFixed(1).padStart(16)} ${(r.fleet / r.one).toFixed(2).padStart(7)}x   ${r.verdicts}`,
        );
      const one = median(rows.map((r) => r.one));
      const fleet = median(rows.map((r) => r.fleet));
      console.log(
        `median: 1 target ${one.toFixed(1)} s, ${TARGETS} targets ${fleet.toFixed(1)} s: ${(fleet / one).toFixed(2)}x (target < 2x)`,
      );
    });
  } finally {
    if (configPath) await rm(configPath, { force: true });
    await removeExtras(ctx.docker);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
