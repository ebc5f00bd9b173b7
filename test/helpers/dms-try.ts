/**
 * A throwaway place for the real docker-mailserver image, apart from the shared mrb-lab-* containers (no
 * lab lock needed): a bridge network without a route out, and one container on it, both named
 * mrb-dms-try-<random>; remove() deletes both.
 */
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { dexec, type LabExecResult } from '../../src/lab/docker.js';
import { containerSpecs, type ContainerSpec, type LabNetwork } from '../../src/lab/containers.js';
import { DMS_LAB_IMAGE } from '../../src/lab/dms-image.js';
import { IMAGES } from '../../src/lab/images.js';
import type { LabMaterial } from '../../src/lab/material.js';
import { probeContainerHealth } from '../../src/lab/lab.js';
import { DEFAULT_PORTS, LAB_LABEL, NAMES } from '../../src/lab/settings.js';
import { tar } from '../../src/lab/tar.js';
import { pollUntil } from './poll.js';

export interface DmsTry {
  /** Name of both the network and the container. */
  readonly name: string;
  readonly network: LabNetwork;
  run(argv: string[], timeoutMs?: number): Promise<LabExecResult>;
  /** Like run, but throws with the output on a non-zero exit. */
  runOk(argv: string[], timeoutMs?: number): Promise<string>;
  /**
   * Creates the container from a lab spec (its files put in place), on this place's network as
   * mail.lab.test, with `hostConfig` over the spec's, starts it and waits until the lab's health probe for
   * its kind passes. Without the lab's label: another session's `lab down` removes every container that
   * has it, and would take this one away mid-test. Returns the seconds from start to healthy.
   */
  startHealthy(spec: ContainerSpec, hostConfig: Docker.HostConfig, timeoutMs: number): Promise<number>;
  remove(): Promise<void>;
}

/** The lab's own mail server spec with the real DMS (the lab layer image), for a throwaway place's network. */
export function labDmsMailserverSpec(network: LabNetwork, material: LabMaterial): ContainerSpec {
  return containerSpecs(
    network,
    { ports: DEFAULT_PORTS, dmsImage: DMS_LAB_IMAGE },
    { mail: IMAGES.mail, relay: IMAGES.relay },
    material,
  ).find((s) => s.role === 'mailserver')!;
}

export async function dmsTry(docker: Docker): Promise<DmsTry> {
  const name = `mrb-dms-try-${randomBytes(4).toString('hex')}`;
  await docker.createNetwork({
    Name: name,
    Driver: 'bridge',
    CheckDuplicate: true,
    Options: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' },
  });
  const info = (await docker.getNetwork(name).inspect()) as {
    IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] };
  };
  const cfg = info.IPAM?.Config?.[0];
  const run = (argv: string[], timeoutMs = 30_000): Promise<LabExecResult> =>
    dexec(docker, name, argv, { timeoutMs });
  return {
    name,
    network: { subnet: cfg?.Subnet ?? '', gateway: cfg?.Gateway ?? '' },
    run,
    async runOk(argv, timeoutMs) {
      const r = await run(argv, timeoutMs);
      if (r.exitCode !== 0)
        throw new Error(`${argv.join(' ')} exited ${r.exitCode}: ${(r.stderr || r.stdout).slice(-800)}`);
      return r.stdout;
    },
    async startHealthy(spec, hostConfig, timeoutMs) {
      const { [LAB_LABEL]: _lab, ...labels } = spec.create.Labels ?? {};
      const container = await docker.createContainer({
        ...spec.create,
        name,
        Labels: labels,
        HostConfig: { ...spec.create.HostConfig, NetworkMode: name, ...hostConfig },
        NetworkingConfig: { EndpointsConfig: { [name]: { Aliases: [NAMES.mailHost] } } },
      });
      await container.putArchive(tar(spec.files), { path: '/' });
      const started = Date.now();
      await container.start();
      await pollUntil(timeoutMs, `${name} healthy by the lab's ${spec.kind} probe`, async () => {
        const problems = await probeContainerHealth(docker, name, spec.kind);
        if (problems.length > 0) throw new Error(problems.join('; '));
        return true;
      });
      return (Date.now() - started) / 1000;
    },
    async remove() {
      await docker
        .getContainer(name)
        .remove({ force: true, v: true })
        .catch(() => undefined);
      await docker
        .getNetwork(name)
        .remove()
        .catch(() => undefined);
    },
  };
}
