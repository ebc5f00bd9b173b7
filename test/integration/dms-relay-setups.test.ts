/**
 * Relaying set up the docker-mailserver way (issue 12, point 2), read by relayRoutingCheck's activities
 * (relayRoute, relayMapsInEffect, relayCredentials), each set-up in a throwaway DMS container apart from the
 * shared lab (no lab lock): the lab's container spec with the real docker-mailserver on its own network.
 *
 * - DEFAULT_RELAY_HOST with RELAY_USER / RELAY_PASSWORD, no RELAY_HOST and no postfix-sasl-password.cf:
 *   DMS sets `relayhost` and writes the ENV credentials under the relay host into sasl_passwd; its
 *   relayhost_map stays empty.
 * - Neither RELAY_HOST nor DEFAULT_RELAY_HOST at start: nothing relays; then DMS's own
 *   `setup relay add-domain` and `setup relay add-auth`, applied by its change detector, route lab.test
 *   through the relay with sender-dependent credentials.
 *
 * In both, the route to the relay must be found, the maps be in effect, the credentials for the next hop be
 * present, and the relay password appear in no result or error.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { ContainerSpec } from '../../src/lab/containers.js';
import { ensureDmsLabImage } from '../../src/lab/dms-image.js';
import { ensureMaterial, type LabMaterial } from '../../src/lab/material.js';
import { DEFAULT_PORTS, labPaths, NAMES } from '../../src/lab/settings.js';
import { targetConfig as labTargetConfig } from '../../src/lab/target-config.js';
import type {
  RelayCredentialsEvidence,
  RelayMapsEvidence,
  RelayRouteEvidence,
} from '../../src/activities/relay-routing.js';
import type { StepOutcome } from '../../src/shared/types.js';
import { runActivityAttempt } from '../helpers/activity-attempt.js';
import { dmsTry, labDmsMailserverSpec, type DmsTry } from '../helpers/dms-try.js';
import { pollUntil } from '../helpers/poll.js';

const docker = new Docker();
const paths = labPaths();
const RELAY_NEXTHOP = `[${NAMES.relayHost}]:${NAMES.relayPort}`;
const SASL_SOURCE = 'tmp/docker-mailserver/postfix-sasl-password.cf';
const RELAY_MAP = '/etc/postfix/relayhost_map';

let material: LabMaterial;
let configDir: string;
const places: Partial<Record<'defaultRelayHost' | 'setupRelay', DmsTry>> = {};
const previousConfig = process.env.MRB_CONFIG;

/** The lab's mail server spec with its relay settings replaced by `relayEnv` and no SASL source file. */
function relaySetupSpec(place: DmsTry, relayEnv: string[]): ContainerSpec {
  const spec = labDmsMailserverSpec(place.network, material);
  const env = (spec.create.Env ?? []).filter((e) => !/^RELAY_(HOST|PORT)=/.test(e));
  return {
    ...spec,
    create: { ...spec.create, Env: [...env, ...relayEnv] },
    files: spec.files.filter((f) => f.path !== SASL_SOURCE),
  };
}

async function startDms(relayEnv: string[]): Promise<DmsTry> {
  const place = await dmsTry(docker);
  const spec = relaySetupSpec(place, relayEnv);
  const seconds = await place.startHealthy(
    spec,
    // No host ports (the shared lab holds the lab's): the activities reach it through the Docker engine.
    // Two cores shared by several sessions: the throwaway server yields to everything else.
    { PortBindings: {}, CpuShares: 2 },
    400_000,
  );
  console.log(`dms-relay-setups: ${place.name} healthy ${seconds.toFixed(1)} s after start`);
  return place;
}

/**
 * A config with one target per throwaway container: the lab's target, its container replaced, its secret
 * files named by absolute path (the lab's folder), so the config can live in a temporary folder.
 */
async function writeConfig(containers: Record<string, string>): Promise<string> {
  const lab = labTargetConfig({ ports: DEFAULT_PORTS }, material, material.relayHostKey.public) as {
    targets: Array<Record<string, unknown>>;
  };
  const absolute = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(absolute);
    if (node && typeof node === 'object') {
      const entries = Object.entries(node as Record<string, unknown>);
      if (entries.length === 1 && entries[0]![0] === 'file' && typeof entries[0]![1] === 'string')
        return { file: resolve(paths.dir, entries[0]![1]) };
      return Object.fromEntries(entries.map(([k, v]) => [k, absolute(v)]));
    }
    return node;
  };
  const template = absolute(lab.targets[0]) as { mailServer: { docker: { container: string } } };
  const targets = Object.entries(containers).map(([name, container]) => {
    const t = structuredClone(template) as typeof template & { name: string };
    t.name = name;
    t.mailServer.docker.container = container;
    return t;
  });
  const path = join(configDir, 'relay-setups.yaml');
  await writeFile(path, stringify({ version: 1, defaultTarget: targets[0]!.name, targets }), { mode: 0o600 });
  return path;
}

interface Reading {
  route: StepOutcome<RelayRouteEvidence>;
  maps: StepOutcome<RelayMapsEvidence>;
  credentials?: StepOutcome<RelayCredentialsEvidence>;
  /** Every result and error message, as one text to search for the secret. */
  text: string;
}

/** relayRoutingCheck's three reads, in its order, as the worker runs them (one attempt each). */
async function readRouting(target: string): Promise<Reading> {
  const texts: string[] = [];
  const call = async <T>(name: 'relayRoute' | 'relayMapsInEffect' | 'relayCredentials', args: unknown[]) => {
    try {
      const result = (await runActivityAttempt(name, 1, args)) as T;
      texts.push(JSON.stringify(result));
      return result;
    } catch (err) {
      texts.push(String(err), (err as Error).stack ?? '');
      throw err;
    }
  };
  const route = await call<StepOutcome<RelayRouteEvidence>>('relayRoute', [target]);
  const maps = await call<StepOutcome<RelayMapsEvidence>>('relayMapsInEffect', [target]);
  const nexthop = route.evidence.route.nexthop;
  const credentials =
    nexthop === undefined
      ? undefined
      : await call<StepOutcome<RelayCredentialsEvidence>>('relayCredentials', [target, nexthop]);
  return { route, maps, credentials, text: texts.join('\n') };
}

function expectNoSecret(reading: Reading): void {
  const password = material.relaySaslPassword;
  expect(reading.text.includes(password), 'the relay password in a result or error').toBe(false);
  expect(reading.text.includes(`${NAMES.relaySaslUser}:`), 'a user:password value in a result').toBe(false);
}

/**
 * Runs DMS's `setup` and waits (bounded) until its change detector has applied the result: `applied` holds
 * and the detector's checksum file lists the current hashes of `sources` (it moves that file into place
 * after handling a change). On a timeout the detector's log is in the error.
 */
async function setupAndWait(
  place: DmsTry,
  commands: string[][],
  sources: string[],
  applied: () => Promise<boolean>,
): Promise<number> {
  // Edits made before the detector runs are seen at its first pass; wait for it all the same, so the
  // bound below is the detector's own time.
  await pollUntil(120_000, `${place.name}: DMS's changedetector RUNNING`, async () =>
    /^changedetector\s+RUNNING/m.test(
      (await place.run(['supervisorctl', 'status', 'changedetector'])).stdout,
    ),
  );
  for (const argv of commands) await place.runOk(['setup', ...argv]);
  const started = Date.now();
  try {
    await pollUntil(120_000, "DMS's change detector applied the relay set-up", async () => {
      if (!(await applied())) return undefined;
      const now = (await place.runOk(['sha512sum', ...sources])).trim().split('\n');
      const checked = (await place.runOk(['cat', '/tmp/docker-mailserver-config-chksum'])).split('\n');
      return now.every((line) => checked.includes(line)) ? true : undefined;
    });
  } catch (err) {
    const log = await place.run(['tail', '-n', '30', '/var/log/supervisor/changedetector.log']);
    throw new Error(`${(err as Error).message}; changedetector log:\n${log.stdout}`);
  }
  return (Date.now() - started) / 1000;
}

const RELAY_MAP_SOURCE = '/tmp/docker-mailserver/postfix-relaymap.cf';

beforeAll(async () => {
  const log = (line: string): void => console.log(line);
  await ensureDmsLabImage(docker, log);
  material = await ensureMaterial(paths, log);
  configDir = await mkdtemp(join(tmpdir(), 'mrb-dms-relay-'));
  const [defaultRelayHost, setupRelay] = await Promise.all([
    startDms([
      `DEFAULT_RELAY_HOST=${RELAY_NEXTHOP}`,
      `RELAY_USER=${NAMES.relaySaslUser}`,
      `RELAY_PASSWORD=${material.relaySaslPassword}`,
    ]),
    startDms([]),
  ]);
  places.defaultRelayHost = defaultRelayHost;
  places.setupRelay = setupRelay;
  process.env.MRB_CONFIG = await writeConfig({
    'dms-default-relay-host': defaultRelayHost.name,
    'dms-setup-relay': setupRelay.name,
  });
}, 1_800_000);

afterAll(async () => {
  if (previousConfig === undefined) delete process.env.MRB_CONFIG;
  else process.env.MRB_CONFIG = previousConfig;
  await Promise.all(Object.values(places).map((p) => p.remove()));
  if (configDir) await rm(configDir, { recursive: true, force: true });
});

describe('relaying set up the docker-mailserver way, read by relayRoutingCheck', () => {
  it('DEFAULT_RELAY_HOST (+ RELAY_USER/RELAY_PASSWORD): the route from relayhost, credentials under the relay host', async () => {
    const place = places.defaultRelayHost!;
    // What DMS generated from the environment.
    const settings = await place.runOk([
      'postconf',
      'relayhost',
      'sender_dependent_relayhost_maps',
      'smtp_sasl_password_maps',
      'smtp_sender_dependent_authentication',
    ]);
    expect(settings.trim().split('\n')).toEqual([
      `relayhost = ${RELAY_NEXTHOP}`,
      `sender_dependent_relayhost_maps = texthash:${RELAY_MAP}`,
      'smtp_sasl_password_maps = texthash:/etc/postfix/sasl_passwd',
      'smtp_sender_dependent_authentication = no',
    ]);
    expect((await place.runOk(['cut', '-d', ' ', '-f', '1', '/etc/postfix/sasl_passwd'])).trim()).toBe(
      RELAY_NEXTHOP,
    );
    expect((await place.runOk(['stat', '-c', '%s', RELAY_MAP])).trim()).toBe('0');

    const r = await readRouting('dms-default-relay-host');
    expect(r.route.ok, r.route.summary).toBe(true);
    expect(r.route.evidence.route).toMatchObject({
      source: 'relayhost',
      nexthop: RELAY_NEXTHOP,
      host: NAMES.relayHost,
    });
    expect(r.maps.ok, r.maps.summary).toBe(true);
    expect(r.maps.evidence.files).toEqual([
      {
        path: RELAY_MAP,
        state: 'empty',
        referencedBy: [`sender_dependent_relayhost_maps = texthash:${RELAY_MAP}`],
      },
    ]);
    expect(r.credentials?.ok, r.credentials?.summary).toBe(true);
    expect(r.credentials?.evidence.foundKey).toBe(RELAY_NEXTHOP);
    expectNoSecret(r);
  });

  it('DEFAULT_RELAY_HOST with `setup relay exclude-domain`: DMS leaves relayhost as it is, and the check still reads the route through it', async () => {
    // DMS's exclusion only keeps RELAY_HOST's generated relayhost_map entry out; relayhost, which
    // DEFAULT_RELAY_HOST sets, applies to every sender. What Postfix does is what the check must say.
    const place = places.defaultRelayHost!;
    const seconds = await setupAndWait(
      place,
      [['relay', 'exclude-domain', NAMES.mailDomain]],
      [RELAY_MAP_SOURCE],
      async () => (await place.run(['test', '-f', RELAY_MAP_SOURCE])).exitCode === 0,
    );
    console.log(`dms-relay-setups: change detector applied exclude-domain in ${seconds.toFixed(1)} s`);
    expect((await place.runOk(['cat', RELAY_MAP_SOURCE])).trim()).toBe(`@${NAMES.mailDomain}`);
    expect((await place.runOk(['stat', '-c', '%s', RELAY_MAP])).trim()).toBe('0');
    const r = await readRouting('dms-default-relay-host');
    expect(r.route.ok, r.route.summary).toBe(true);
    expect(r.route.evidence.route).toMatchObject({ source: 'relayhost', nexthop: RELAY_NEXTHOP });
    expect(r.credentials?.ok, r.credentials?.summary).toBe(true);
    expectNoSecret(r);
  });

  it('setup relay add-domain + add-auth: nothing relays before; after the change detector, the route and credentials by sender domain', async () => {
    const place = places.setupRelay!;
    const target = 'dms-setup-relay';
    // Before: no RELAY_HOST, no relay map, no credentials: lab.test mail would go straight to the MX.
    const before = await readRouting(target);
    expect(before.route.ok).toBe(false);
    expect(before.route.evidence.route.source).toBe('direct');
    expect(before.credentials).toBeUndefined();

    const seconds = await setupAndWait(
      place,
      [
        ['relay', 'add-domain', NAMES.mailDomain, NAMES.relayHost, String(NAMES.relayPort)],
        ['relay', 'add-auth', NAMES.mailDomain, NAMES.relaySaslUser, material.relaySaslPassword],
      ],
      [RELAY_MAP_SOURCE, `/${SASL_SOURCE}`],
      async () => {
        const map = await place.run(['cat', RELAY_MAP]);
        const keys = await place.run(['cut', '-d', ' ', '-f', '1', '/etc/postfix/sasl_passwd']);
        return (
          map.stdout.startsWith(`@${NAMES.mailDomain} `) && keys.stdout.trim() === `@${NAMES.mailDomain}`
        );
      },
    );
    console.log(`dms-relay-setups: change detector applied add-domain + add-auth in ${seconds.toFixed(1)} s`);

    const map = await place.runOk(['cat', RELAY_MAP]);
    expect(map.trim()).toMatch(
      new RegExp(
        `^@${NAMES.mailDomain.replace('.', '\\.')}\\s+\\[${NAMES.relayHost.replace(/\./g, '\\.')}\\]:${NAMES.relayPort}$`,
      ),
    );
    expect((await place.runOk(['cut', '-d', ' ', '-f', '1', '/etc/postfix/sasl_passwd'])).trim()).toBe(
      `@${NAMES.mailDomain}`,
    );

    const r = await readRouting(target);
    expect(r.route.ok, r.route.summary).toBe(true);
    expect(r.route.evidence.route).toMatchObject({
      source: 'sender_dependent_relayhost_maps',
      nexthop: RELAY_NEXTHOP,
      host: NAMES.relayHost,
    });
    expect(r.route.evidence.settings.relayhost).toBe('');
    expect(r.maps.ok, r.maps.summary).toBe(true);
    expect(r.maps.evidence.files[0]).toMatchObject({ path: RELAY_MAP, state: 'present' });
    expect(r.credentials?.ok, r.credentials?.summary).toBe(true);
    expect(r.credentials?.evidence.senderDependent).toBe('yes');
    expect(r.credentials?.evidence.foundKey).toBe(`@${NAMES.mailDomain}`);
    expectNoSecret(before);
    expectNoSecret(r);
  });
});
