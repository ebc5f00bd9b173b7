/**
 * A throwaway place for the real docker-mailserver image, apart from the shared mrb-lab-* containers (no
 * lab lock needed): a bridge network without a route out, and one container on it, both named
 * mrb-dms-try-<random>; remove() deletes both.
 */
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { dexec, type LabExecResult } from '../../src/lab/docker.js';
import type { LabNetwork } from '../../src/lab/containers.js';

export interface DmsTry {
  /** Name of both the network and the container. */
  readonly name: string;
  readonly network: LabNetwork;
  run(argv: string[], timeoutMs?: number): Promise<LabExecResult>;
  /** Like run, but throws with the output on a non-zero exit. */
  runOk(argv: string[], timeoutMs?: number): Promise<string>;
  remove(): Promise<void>;
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
