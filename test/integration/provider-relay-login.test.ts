/**
 * The provider relay's SMTP checks against real servers of the lab, each activity as the worker runs it:
 *
 * - The login check (relay.sasl, from the worker) against the lab relay, a Postfix that requires AUTH after
 *   STARTTLS on 2526: the right password logs in, a wrong one is refused with 535 (and the relay logs the
 *   failure), and the password shows nowhere in the result. The relay's SMTP port is not published: the
 *   worker reaches the relay at its address on the lab's Docker network (the host is a member of it), so
 *   the lab gains no port. The certificate is verified against the lab CA for relay.lab.test.
 * - Implicit TLS (SMTPS, relay.tls implicit): the login check against the mail server's own 465, published
 *   on 127.0.0.1, an implicit-TLS SMTP server with AUTH (the canary's account stands in for the relay's
 *   SASL user); the probe from the mail server with posttls-finger in wrapper mode, where port 465 alone
 *   means implicit TLS. A TLS mode that does not match the port fails at the TLS layer, naming the fix.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse, stringify } from 'yaml';
import { providerRelayLogin, providerRelayStatus } from '../../src/activities/provider-relay.js';
import { inspectContainer } from '../../src/lab/docker.js';
import { findFault, healFault } from '../../src/lab/faults.js';
import { MATERIAL_FILES } from '../../src/lab/material.js';
import { CONTAINERS, NAMES, NETWORK } from '../../src/lab/settings.js';
import { RELAY_LOG } from '../../src/lab/target-config.js';
import { ensureLab, inLab, type Lab } from '../helpers/lab.js';

const WRONG = `wrong-${randomUUID()}`;
const WRONG_ENV = 'MRB_TEST_PROVIDER_WRONG_PASSWORD';

interface LabConfig {
  targets: Array<{
    name: string;
    relay: { sasl: { user: string; password: unknown } };
    canary: { expectRelay: string };
  }>;
}

let lab: Lab;
let labConfig: LabConfig;
let relayAddress: string;
const written: string[] = [];

/** The lab's config with its relay made a provider relay, written beside the lab's (secret paths are relative). */
async function useProviderConfig(relay: Record<string, unknown>, expectRelay: string): Promise<string> {
  const config = structuredClone(labConfig);
  config.targets[0]!.relay = relay as LabConfig['targets'][number]['relay'];
  config.targets[0]!.canary.expectRelay = expectRelay;
  const path = join(lab.ctx.paths.dir, `provider-login-${randomUUID()}.yaml`);
  await writeFile(path, stringify(config), { mode: 0o600 });
  written.push(path);
  vi.stubEnv('MRB_CONFIG', path);
  return config.targets[0]!.name;
}

const labCa = { file: MATERIAL_FILES.caCert };

beforeAll(async () => {
  lab = await ensureLab();
  await healFault(lab.ctx, findFault('relay-auth')); // the relay takes the password the lab's config names
  labConfig = parse(await readFile(lab.up.config, 'utf8')) as LabConfig;
  const info = await inspectContainer(lab.ctx.docker, CONTAINERS.relay);
  relayAddress = info?.NetworkSettings.Networks[NETWORK]?.IPAddress ?? '';
  expect(relayAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  vi.stubEnv(WRONG_ENV, WRONG);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all(written.map((path) => rm(path, { force: true })));
});

function expectNoPassword(result: unknown, password: string): void {
  const shown = JSON.stringify(result);
  expect(shown).not.toContain(password);
  expect(shown).not.toContain(Buffer.from(password).toString('base64'));
}

describe('the login check against the lab relay (Postfix, AUTH after STARTTLS on 2526)', () => {
  const relayConfig = (password: unknown) => ({
    flavour: 'provider',
    port: NAMES.relayPort,
    sasl: { user: NAMES.relaySaslUser, password },
    ca: labCa,
    servername: NAMES.relayHost,
  });

  it('the right credentials log in over verified STARTTLS: ok', async () => {
    const target = await useProviderConfig(
      relayConfig(labConfig.targets[0]!.relay.sasl.password),
      relayAddress,
    );
    const result = await providerRelayLogin(target);
    expect(result.summary).toBe(
      `login to ${relayAddress}:${NAMES.relayPort} as ${NAMES.relaySaslUser} works (235 2.7.0 Authentication successful)`,
    );
    expect(result.ok).toBe(true);
    expect(result.evidence.probe).toMatchObject({
      reached: ['tcp', 'tls', 'ehlo', 'auth'],
      tls: { subject: NAMES.relayHost, issuer: 'mail-runbooks lab CA' },
      ehlo: { greeting: `220 ${NAMES.relayHost} ESMTP lab relay` },
    });
    expect(result.evidence.probe?.transcript).toContain('> AUTH PLAIN <credentials>');
    const password = (await readFile(join(lab.ctx.paths.dir, MATERIAL_FILES.relaySaslVault), 'utf8')).trim();
    expectNoPassword(result, password);
  });

  it('a wrong password: a clear auth failure (535), logged by the relay, the password never shown', async () => {
    const target = await useProviderConfig(relayConfig({ env: WRONG_ENV }), relayAddress);
    const logBefore = (await inLab(lab, 'relay', ['cat', RELAY_LOG])).stdout.length;
    const result = await providerRelayLogin(target);
    expect(result.ok).toBe(false);
    expect(result.summary).toMatch(
      new RegExp(
        `^login to ${relayAddress.replace(/\./g, '\\.')}:${NAMES.relayPort} as ${NAMES.relaySaslUser} failed \\(auth\\): login as ${NAMES.relaySaslUser} refused: 535 5\\.7\\.8 .*authentication failed.* \\(wrong user or password \\(check relay\\.sasl\\)\\)$`,
      ),
    );
    expect(result.evidence.probe?.failed).toMatchObject({
      layer: 'auth',
      hint: 'wrong user or password (check relay.sasl)',
    });
    expect(result.evidence.probe?.reached).toEqual(['tcp', 'tls', 'ehlo']);
    expectNoPassword(result, WRONG);
    // The real relay saw the attempt: its log has the failed login from the worker's side of the network.
    const log = (await inLab(lab, 'relay', ['cat', RELAY_LOG])).stdout.slice(logBefore);
    expect(log).toMatch(/SASL PLAIN authentication failed/);
    expect(log).not.toContain(WRONG);
  });

  it('implicit TLS on its STARTTLS port: fails at the TLS layer, saying the port wants STARTTLS', async () => {
    const target = await useProviderConfig(
      { ...relayConfig(labConfig.targets[0]!.relay.sasl.password), tls: 'implicit' },
      relayAddress,
    );
    const result = await providerRelayLogin(target);
    expect(result.ok).toBe(false);
    expect(result.evidence.probe?.failed).toMatchObject({
      layer: 'tls',
      message: expect.stringMatching(/wrong version number/) as unknown,
      hint: `the server answered in plain text: port ${NAMES.relayPort} wants STARTTLS (usually 587), not implicit TLS`,
    });
    expect(result.evidence.probe?.transcript.some((l) => l.startsWith('> AUTH'))).toBe(false);
  });
});

describe('implicit TLS (SMTPS): the mail server on 465 as the implicit-TLS server', () => {
  const canaryPassword = { file: MATERIAL_FILES.canaryPassword };
  const submissions = (password: unknown, tls?: string) => ({
    flavour: 'provider',
    port: lab.ports.submissions,
    ...(tls !== undefined && { tls }),
    sasl: { user: NAMES.canaryUser, password },
    ca: labCa,
    servername: NAMES.mailHost,
  });

  it('the login check with relay.tls implicit: TLS first, then the greeting, EHLO and AUTH: ok', async () => {
    const target = await useProviderConfig(submissions(canaryPassword, 'implicit'), '127.0.0.1');
    const result = await providerRelayLogin(target);
    expect(result.summary).toMatch(
      new RegExp(`^login to 127\\.0\\.0\\.1:${lab.ports.submissions} as ${NAMES.canaryUser} works \\(235 `),
    );
    expect(result.ok).toBe(true);
    expect(result.evidence.probe).toMatchObject({
      reached: ['tcp', 'tls', 'ehlo', 'auth'],
      tls: { subject: NAMES.mailHost },
    });
    // Implicit: TLS from the first byte (before the greeting), no STARTTLS command; AUTH went over that TLS.
    const transcript = result.evidence.probe?.transcript ?? [];
    expect(transcript[1]).toMatch(/^TLS TLSv1\.[23] /);
    expect(transcript[2]).toMatch(/^< 220 /);
    expect(transcript).not.toContain('> STARTTLS');
    expect(transcript).toContain('> AUTH PLAIN <credentials>');
    expectNoPassword(result, lab.canaryPassword);
  });

  it('a wrong password over implicit TLS: refused at AUTH, never shown', async () => {
    const target = await useProviderConfig(submissions({ env: WRONG_ENV }, 'implicit'), '127.0.0.1');
    const result = await providerRelayLogin(target);
    expect(result.ok).toBe(false);
    expect(result.evidence.probe?.failed).toMatchObject({ layer: 'auth' });
    expect(result.summary).toMatch(/failed \(auth\): login as .* refused: 535 /);
    expectNoPassword(result, WRONG);
  });

  it('STARTTLS (the default off 465) on an implicit-TLS port: no greeting, and the hint names implicit TLS', async () => {
    const target = await useProviderConfig(submissions(canaryPassword), '127.0.0.1');
    const result = await providerRelayLogin(target);
    expect(result.ok).toBe(false);
    expect(result.evidence.probe?.failed).toMatchObject({
      layer: 'tls',
      hint: `the server waits for the client to speak first: port ${lab.ports.submissions} may want implicit TLS (usually 465)`,
    });
    expect(result.evidence.probe?.transcript.some((l) => l.startsWith('> AUTH'))).toBe(false);
  });

  it('the probe from the mail server: port 465 alone means implicit TLS (posttls-finger -w), AUTH offered', async () => {
    const target = await useProviderConfig(
      { flavour: 'provider', port: 465, sasl: { user: NAMES.canaryUser, password: canaryPassword } },
      NAMES.mailHost,
    );
    const result = await providerRelayStatus(target);
    expect(result.summary).toMatch(
      new RegExp(
        `^provider relay \\[${NAMES.mailHost.replace(/\./g, '\\.')}\\]:465 greets "220 ${NAMES.mailHost.replace(/\./g, '\\.')} ESMTP"; implicit TLS TLSv1\\.[23] \\(certificate \\w+ by the mail server's CA store\\); AUTH PLAIN LOGIN$`,
      ),
    );
    expect(result.ok).toBe(true);
    expect(result.evidence).toMatchObject({ connected: true, ehloOk: true, starttlsOffered: false });
  });

  it('the probe with implicit TLS on the relay STARTTLS port: the handshake fails, naming relay.tls: starttls', async () => {
    const target = await useProviderConfig(
      { flavour: 'provider', port: NAMES.relayPort, tls: 'implicit' },
      NAMES.relayHost,
    );
    const result = await providerRelayStatus(target);
    expect(result.ok).toBe(false);
    expect(result.summary).toBe(
      `provider relay [${NAMES.relayHost}]:${NAMES.relayPort} implicit TLS handshake failed: wrong version number: the relay answered in plain text, so this port wants STARTTLS (relay.tls: starttls) (no AUTH offered)`,
    );
  });
});
