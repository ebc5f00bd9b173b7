/**
 * What `MRB_LAB_MAILSERVER=dms npm run lab -- up` would run as the lab's mail server, tried apart from the
 * shared lab (no lab lock): the lab's own container spec (containerSpecs with the real docker-mailserver
 * plus the lab layer, the lab's material) in a throwaway container on its own network. It must pass the
 * lab's DMS health probe, wire the relay the DMS way from RELAY_HOST and postfix-sasl-password.cf, apply
 * the lab's override through DMS's postfix-main.cf, carry the lab layer's tools, and accept the canary's
 * login on submission with STARTTLS and the lab CA's certificate.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDmsLabImage } from '../../src/lab/dms-image.js';
import { ensureMaterial, MATERIAL_FILES, type LabMaterial } from '../../src/lab/material.js';
import { labPaths, NAMES } from '../../src/lab/settings.js';
import { smtpTransport } from '../../src/mail/smtp-transport.js';
import { dmsTry, labDmsMailserverSpec, type DmsTry } from '../helpers/dms-try.js';

const docker = new Docker();
const paths = labPaths();
let place: DmsTry;
let material: LabMaterial;
let submissionPort = 0;

beforeAll(async () => {
  const log = (line: string): void => console.log(line);
  await ensureDmsLabImage(docker, log);
  material = await ensureMaterial(paths, log);
  place = await dmsTry(docker);
  const spec = labDmsMailserverSpec(place.network, material);
  expect(spec.kind).toBe('dms');
  const seconds = await place.startHealthy(
    spec,
    // Not the lab's host ports (the shared lab holds them): one Docker-chosen loopback port.
    { PortBindings: { '587/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
    300_000,
  );
  console.log(`dms-lab-spec test: healthy ${seconds.toFixed(1)} s after start`);
  const info = await docker.getContainer(place.name).inspect();
  submissionPort = Number(info.NetworkSettings.Ports['587/tcp']?.[0]?.HostPort);
}, 1_800_000);

afterAll(async () => {
  await place?.remove();
});

describe("the lab's mail server spec on the real docker-mailserver", () => {
  it('relays lab.test through the relay the DMS way, with the lab override from postfix-main.cf', async () => {
    const settings = await place.runOk([
      'postconf',
      'sender_dependent_relayhost_maps',
      'smtp_sasl_password_maps',
      'smtp_sasl_auth_enable',
      'smtp_sender_dependent_authentication',
      'relayhost',
      'content_filter',
      'smtp_helo_timeout',
    ]);
    expect(settings.trim().split('\n')).toEqual([
      'sender_dependent_relayhost_maps = texthash:/etc/postfix/relayhost_map',
      'smtp_sasl_password_maps = texthash:/etc/postfix/sasl_passwd',
      'smtp_sasl_auth_enable = yes',
      'smtp_sender_dependent_authentication = yes',
      'relayhost =',
      'content_filter = smtp-amavis:[127.0.0.1]:10024',
      'smtp_helo_timeout = 20s',
    ]);
    const map = await place.runOk(['cat', '/etc/postfix/relayhost_map']);
    expect(map.trim()).toMatch(/^@lab\.test\s+\[relay\.lab\.test\]:2526$/);
    // The credentials table DMS built from postfix-sasl-password.cf: root only, one line per next hop.
    expect((await place.runOk(['stat', '-c', '%a %U', '/etc/postfix/sasl_passwd'])).trim()).toBe('600 root');
    const keys = (await place.runOk(['cut', '-d', ' ', '-f', '1', '/etc/postfix/sasl_passwd'])).trim();
    expect(keys.split('\n')).toEqual([`[${NAMES.relayHost}]:${NAMES.relayPort}`, `@${NAMES.mailDomain}`]);
  });

  it("carries the lab layer: ssh for the relay check, the queue-flood tool, the faults' folder", async () => {
    expect((await place.run(['ssh', '-V'])).stderr).toMatch(/^OpenSSH_/);
    expect((await place.runOk(['lab-queue-flood', 'count'])).trim()).toBe('0');
    await place.runOk(['test', '-d', '/var/lib/lab/faults']);
    expect((await place.runOk(['stat', '-c', '%a', '/home/cloudrelay/.ssh/id_rsa'])).trim()).toBe('600');
  });

  it("accepts the canary's login on submission (STARTTLS, the lab CA's certificate for mail.lab.test)", async () => {
    const read = (rel: string): Promise<string> => readFile(join(paths.dir, rel), 'utf8');
    const transport = smtpTransport(
      {
        host: '127.0.0.1',
        port: submissionPort,
        tls: 'starttls',
        ca: await read(MATERIAL_FILES.caCert),
        servername: NAMES.mailHost,
        user: NAMES.canaryUser,
        password: material.canaryPassword,
      },
      { connectMs: 20_000, socketMs: 30_000 },
    );
    try {
      await expect(transport.verify()).resolves.toBe(true);
    } finally {
      transport.close();
    }
  });
});
