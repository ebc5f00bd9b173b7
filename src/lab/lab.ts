/**
 * Lab lifecycle through the Docker engine API: `up` (images, material, network, containers, health,
 * target config), `down` and `status`. `up` is idempotent: running containers whose spec is unchanged are
 * kept as they are.
 */
import Docker from 'dockerode';
import {
  containerSpecs,
  type LabNetwork,
  KIND_LABEL,
  ROLE_LABEL,
  SPEC_LABEL,
  specHash,
  type ContainerSpec,
} from './containers.js';
import { DMS_LAB_IMAGE, ensureDmsLabImage } from './dms-image.js';
import { dexec, dexecOk, inspectContainer, pollUntil } from './docker.js';
import { ensureImages, IMAGES, type ImageName } from './images.js';
import { ensureDockerEngine } from '../preflight/docker.js';
import { throwIfProblems } from '../preflight/problems.js';
import { portProblems } from '../preflight/probes.js';
import { withProgress } from '../preflight/progress.js';
import { ensureMaterial } from './material.js';
import {
  CONTAINERS,
  LAB_LABEL,
  labPaths,
  labPortWants,
  loadSettings,
  mailserverChoice,
  rememberedMailserver,
  NAMES,
  NETWORK,
  ROLES,
  saveSettings,
  type LabPaths,
  type LabPorts,
  type LabSettings,
  type Role,
} from './settings.js';
import { tar } from './tar.js';
import { writeTargetConfig } from './target-config.js';

export interface LabContext {
  docker: Docker;
  paths: LabPaths;
  log: (line: string) => void;
}

export function labContext(
  options: { root?: string; log?: (line: string) => void; docker?: Docker } = {},
): LabContext {
  return {
    docker: options.docker ?? new Docker(),
    paths: labPaths(options.root),
    log: options.log ?? ((line) => console.error(line)),
  };
}

export interface UpOptions {
  ports?: Partial<LabPorts>;
  /** A docker-mailserver image for the mail server; '' goes back to the lab image. */
  dmsImage?: string;
  /** Bound on waiting for the containers to become healthy. */
  healthTimeoutMs?: number;
}

export interface UpResult {
  config: string;
  settings: LabSettings;
  created: Role[];
  reused: Role[];
  built: ImageName[];
  seconds: { total: number; base: number; images: number; containers: number };
}

interface NetworkInfo {
  Labels?: Record<string, string>;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] };
}

/** The lab network's subnet and gateway, or undefined when it does not exist. */
export async function labNetwork(ctx: LabContext): Promise<(LabNetwork & { ours: boolean }) | undefined> {
  try {
    const info = (await ctx.docker.getNetwork(NETWORK).inspect()) as NetworkInfo;
    const cfg = info.IPAM?.Config?.[0];
    if (!cfg?.Subnet || !cfg.Gateway) throw new Error(`network ${NETWORK} has no IPv4 subnet/gateway`);
    return { subnet: cfg.Subnet, gateway: cfg.Gateway, ours: info.Labels?.[LAB_LABEL] === '1' };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

async function ensureNetwork(ctx: LabContext): Promise<LabNetwork> {
  const existing = await labNetwork(ctx);
  if (existing) {
    if (!existing.ours) {
      throw new Error(
        `a Docker network named ${NETWORK} exists but was not created by the lab; remove or rename it`,
      );
    }
    return existing;
  }
  ctx.log(`lab: creating network ${NETWORK}`);
  await ctx.docker.createNetwork({
    Name: NETWORK,
    Driver: 'bridge',
    CheckDuplicate: true,
    Labels: { [LAB_LABEL]: '1' },
    // No NAT to the outside world: lab containers talk to each other and to published host ports only.
    Options: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' },
  });
  const created = await labNetwork(ctx);
  if (!created) throw new Error(`network ${NETWORK} vanished right after it was created`);
  return created;
}

/** Creates (or keeps) one container; returns whether it was created. */
async function ensureContainer(
  ctx: LabContext,
  spec: ContainerSpec,
  hash: string,
): Promise<'created' | 'reused' | 'started'> {
  const existing = await inspectContainer(ctx.docker, spec.name);
  if (existing) {
    const same = existing.Config.Labels?.[SPEC_LABEL] === hash;
    if (same && existing.State.Running) return 'reused';
    if (same && existing.State.Status !== 'dead') {
      ctx.log(`lab: starting existing ${spec.name}`);
      await ctx.docker.getContainer(spec.name).start();
      return 'started';
    }
    if (existing.Config.Labels?.[LAB_LABEL] !== '1') {
      throw new Error(
        `a container named ${spec.name} exists but was not created by the lab; remove or rename it`,
      );
    }
    ctx.log(`lab: replacing ${spec.name} (its configuration changed)`);
    await ctx.docker.getContainer(spec.name).remove({ force: true, v: true });
  }
  ctx.log(`lab: creating ${spec.name}`);
  const create = {
    ...spec.create,
    Labels: { ...spec.create.Labels, [SPEC_LABEL]: hash, [KIND_LABEL]: spec.kind },
  };
  const container = await ctx.docker.createContainer(create);
  await container.putArchive(tar(spec.files), { path: '/' });
  await container.start();
  return 'created';
}

/** One health probe: [] when healthy, else the problems. */
export async function probeHealth(ctx: LabContext, role: Role, kind: 'lab' | 'dms'): Promise<string[]> {
  return probeContainerHealth(ctx.docker, CONTAINERS[role], kind);
}

/** probeHealth for any container: the lab image's own deep check, or DMS's programs and ports. */
export async function probeContainerHealth(
  docker: Docker,
  name: string,
  kind: 'lab' | 'dms',
): Promise<string[]> {
  const info = await inspectContainer(docker, name);
  if (!info) return ['container missing'];
  if (!info.State.Running) return [`container ${info.State.Status}`];
  if (kind === 'lab') {
    const r = await dexec(docker, name, ['/usr/local/bin/lab-healthcheck', '--deep'], {
      timeoutMs: 20_000,
    });
    return r.exitCode === 0 ? [] : (r.stdout + r.stderr).trim().split('\n').filter(Boolean);
  }
  const problems: string[] = [];
  const st = await dexec(docker, name, ['supervisorctl', 'status'], { timeoutMs: 20_000 });
  for (const program of ['postfix', 'dovecot', 'amavis']) {
    if (!new RegExp(`^${program}\\s+RUNNING`, 'm').test(st.stdout))
      problems.push(`program ${program} not RUNNING`);
  }
  const ss = await dexec(docker, name, ['ss', '-Htln'], { timeoutMs: 20_000 });
  for (const port of [25, 587, 465, 993, 10024, 10025]) {
    if (!new RegExp(`[:.]${port}\\s`).test(ss.stdout + ' ')) problems.push(`port ${port} not listening`);
  }
  return problems;
}

export async function waitHealthy(
  ctx: LabContext,
  role: Role,
  kind: 'lab' | 'dms',
  timeoutMs: number,
): Promise<void> {
  // Two healthy probes in a row, a second apart: a daemon that binds its ports and then dies (a broken
  // config) must not pass for healthy.
  let streak = 0;
  await pollUntil(
    `${CONTAINERS[role]} to become healthy`,
    timeoutMs,
    async () => {
      const problems = await probeHealth(ctx, role, kind);
      if (problems.length > 0) {
        streak = 0;
        throw new Error(problems.join('; '));
      }
      return ++streak >= 2;
    },
    1000,
  );
}

const HOST_NAMES: Record<Role, string> = {
  mailserver: NAMES.mailHost,
  relay: NAMES.relayHost,
  dest: NAMES.destHost,
};

/**
 * Gives the lab's DNS (dnsmasq in the destination container) the containers' addresses, for A and PTR
 * records: known only once every container runs. dnsmasq notices the rewritten file by itself.
 */
async function publishAddresses(ctx: LabContext): Promise<void> {
  const lines: string[] = [];
  for (const role of ROLES) {
    const info = await inspectContainer(ctx.docker, CONTAINERS[role]);
    const ip = info?.NetworkSettings.Networks[NETWORK]?.IPAddress;
    if (ip) lines.push(`${ip} ${HOST_NAMES[role]}`);
  }
  await dexecOk(ctx.docker, CONTAINERS.dest, ['tee', '/etc/lab/dns/hosts.d/lab'], {
    stdin: `${lines.join('\n')}\n`,
  });
}

export async function labUp(ctx: LabContext, options: UpOptions = {}): Promise<UpResult> {
  const t0 = Date.now();
  await ensureDockerEngine(ctx.docker, { log: ctx.log });
  const saved = await loadSettings(ctx.paths);
  const settings: LabSettings = { ports: { ...saved.ports, ...options.ports } };
  // --dms-image wins; else MRB_LAB_MAILSERVER (dms: build the real one here; lab: the lab image); else as saved,
  // and the real DMS when nothing was chosen yet.
  const choice =
    options.dmsImage === undefined
      ? (mailserverChoice() ?? rememberedMailserver(saved, DMS_LAB_IMAGE))
      : undefined;
  const dmsImage =
    choice === 'dms'
      ? await ensureDmsLabImage(ctx.docker, ctx.log)
      : choice === 'lab'
        ? undefined
        : options.dmsImage === undefined
          ? saved.dmsImage
          : options.dmsImage || undefined;
  if (dmsImage) {
    try {
      await ctx.docker.getImage(dmsImage).inspect();
    } catch {
      throw new Error(
        `--dms-image ${dmsImage}: no such image in this Docker engine (docker image inspect found nothing); ` +
          'load or build it first (no registry is used)',
      );
    }
    settings.dmsImage = dmsImage;
  } else settings.mailserver = 'lab';
  // Before the slow parts (image builds), so a taken port is said at once, not after minutes.
  const publishedByLab = new Set(
    (await ctx.docker.listContainers({ filters: { label: [`${LAB_LABEL}=1`] } })).flatMap((c) =>
      c.Ports.map((p) => p.PublicPort).filter((p): p is number => typeof p === 'number'),
    ),
  );
  throwIfProblems(await portProblems(labPortWants(settings.ports, publishedByLab)));
  await saveSettings(ctx.paths, settings);

  const needed: ImageName[] = dmsImage ? ['mailbase', 'relay', 'mail'] : ['mailbase', 'mail', 'relay'];
  const images = await ensureImages(ctx.docker, ctx.log, needed);
  const material = await ensureMaterial(ctx.paths, ctx.log);
  const network = await ensureNetwork(ctx);

  const t1 = Date.now();
  const specs = containerSpecs(network, settings, { mail: IMAGES.mail, relay: IMAGES.relay }, material);
  const created: Role[] = [];
  const reused: Role[] = [];
  for (const spec of specs) {
    const imageId = (await ctx.docker.getImage(String(spec.create.Image)).inspect()).Id;
    const outcome = await ensureContainer(ctx, spec, specHash(spec, imageId, material.digest));
    (outcome === 'reused' ? reused : created).push(spec.role);
  }
  if (created.length > 0)
    ctx.log(`lab: waiting for ${created.map((r) => CONTAINERS[r]).join(', ')} to become healthy`);
  const timeout = options.healthTimeoutMs ?? (dmsImage ? 300_000 : 120_000);
  await withProgress(ctx.log, 'lab: waiting for the containers to become healthy', () =>
    Promise.all(specs.map((s) => waitHealthy(ctx, s.role, s.kind, timeout))),
  );
  // New containers may have new addresses; reused ones keep theirs and dest keeps the file.
  if (created.length > 0) await publishAddresses(ctx);
  const config = await writeTargetConfig(ctx.paths, settings, material);
  const seconds = {
    total: (Date.now() - t0) / 1000,
    base: images.seconds.base,
    images: images.seconds.images,
    containers: (Date.now() - t1) / 1000,
  };
  ctx.log(
    `lab: up in ${seconds.total.toFixed(1)} s (created: ${created.join(', ') || 'none'}; reused: ${reused.join(', ') || 'none'}); config ${config}`,
  );
  return { config, settings, created, reused, built: images.built, seconds };
}

export interface DownResult {
  removedContainers: string[];
  removedNetwork: boolean;
}

/** Removes the lab's containers (with any anonymous volumes) and its network. Keeps images and .lab/. */
export async function labDown(ctx: LabContext): Promise<DownResult> {
  const list = await ctx.docker.listContainers({ all: true, filters: { label: [`${LAB_LABEL}=1`] } });
  const removedContainers: string[] = [];
  await Promise.all(
    list.map(async (c) => {
      const name = (c.Names[0] ?? c.Id).replace(/^\//, '');
      ctx.log(`lab: removing ${name}`);
      await ctx.docker.getContainer(c.Id).remove({ force: true, v: true });
      removedContainers.push(name);
    }),
  );
  let removedNetwork = false;
  try {
    const info = (await ctx.docker.getNetwork(NETWORK).inspect()) as { Labels?: Record<string, string> };
    if (info.Labels?.[LAB_LABEL] === '1') {
      await ctx.docker.getNetwork(NETWORK).remove();
      removedNetwork = true;
      ctx.log(`lab: removed network ${NETWORK}`);
    }
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  return { removedContainers, removedNetwork };
}

export interface ContainerStatus {
  role: Role;
  name: string;
  state: string;
  /** Docker's health status (from the image's check), or 'none'. */
  dockerHealth: string;
  /** Our own probe, run now: [] = healthy. */
  problems: string[];
  image?: string;
  ports: string[];
  faults: { name: string; detail: string }[];
}

export interface LabStatus {
  network: boolean;
  containers: ContainerStatus[];
  config: string;
  settings: LabSettings;
}

/** Active faults recorded in a container (/var/lib/lab/faults/<name>, content = details). */
export async function containerFaults(
  ctx: LabContext,
  role: Role,
): Promise<{ name: string; detail: string }[]> {
  const r = await dexec(
    ctx.docker,
    CONTAINERS[role],
    [
      'sh',
      '-c',
      'cd /var/lib/lab/faults 2>/dev/null && for f in *; do [ -f "$f" ] && printf "%s\\t%s\\n" "$f" "$(head -c 300 "$f" | tr "\\n" " ")"; done; true',
    ],
    { timeoutMs: 10_000 },
  );
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name = '', detail = ''] = line.split('\t');
      return { name, detail: detail.trim() };
    });
}

export async function labStatus(ctx: LabContext): Promise<LabStatus> {
  const settings = await loadSettings(ctx.paths);
  let network = false;
  try {
    await ctx.docker.getNetwork(NETWORK).inspect();
    network = true;
  } catch {
    network = false;
  }
  const containers = await Promise.all(
    ROLES.map(async (role): Promise<ContainerStatus> => {
      const name = CONTAINERS[role];
      const info = await inspectContainer(ctx.docker, name);
      if (!info)
        return {
          role,
          name,
          state: 'missing',
          dockerHealth: 'none',
          problems: ['container missing'],
          ports: [],
          faults: [],
        };
      const kind = (info.Config.Labels?.[KIND_LABEL] as 'lab' | 'dms' | undefined) ?? 'lab';
      const ports = Object.entries(info.NetworkSettings.Ports ?? {}).flatMap(([inside, binds]) =>
        (binds ?? []).map((b) => `${b.HostIp}:${b.HostPort}->${inside.replace('/tcp', '')}`),
      );
      const running = info.State.Running;
      return {
        role,
        name,
        state: info.State.Status,
        dockerHealth: info.State.Health?.Status ?? 'none',
        problems: running
          ? await probeHealth(ctx, role, kind).catch((e: Error) => [e.message])
          : [`container ${info.State.Status}`],
        image: info.Config.Image,
        ports,
        faults: running ? await containerFaults(ctx, role).catch(() => []) : [],
      };
    }),
  );
  return { network, containers, config: ctx.paths.config, settings };
}

export { ROLE_LABEL };
