/**
 * The provider relay's activities against a loopback fake SMTP server: the login check never sends the
 * password without STARTTLS (the fake offers AUTH in clear, and sees no AUTH), with relay.tls implicit
 * speaks TLS before anything else (the plain-text fake fails the handshake), never shows it in a result,
 * does not connect at all without credentials; the plan says smtp-only; the relay-host activities refuse
 * such a relay before any SSH transport is built.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { loadTargetPlan } from '../../src/activities/plan.js';
import { providerRelayLogin } from '../../src/activities/provider-relay.js';
import { relayLogs, relayPortListening, restartRelayWatchdog } from '../../src/activities/relay.js';
import { fakeSmtpServer, type FakeSmtp } from '../helpers/fake-smtp.js';
import { edit, fullRaw } from './config-fixture.js';

const PASSWORD = 'relay-pw-Zq8!never-shown';
const TARGET = 'remote';

let dir: string;
let relay: FakeSmtp;
let port: number;
let sessions: string[][];

/** A relay that offers AUTH in clear and no STARTTLS: a client that logs in here leaks the password. */
function fakeRelay(): Promise<FakeSmtp> {
  return fakeSmtpServer('220 smarthost.test ESMTP', (line, socket) => {
    if (line.startsWith('EHLO')) socket.write('250-smarthost.test\r\n250 AUTH PLAIN LOGIN\r\n');
    else if (line.startsWith('AUTH')) socket.write('235 2.7.0 Authentication successful\r\n');
    else if (line === 'QUIT') socket.end('221 2.0.0 Bye\r\n');
    else socket.write('502 5.5.2 Error: command not recognized\r\n');
  });
}

async function useConfig(relay: Record<string, unknown>): Promise<void> {
  const raw = edit(fullRaw(), 'targets.2.relay', relay);
  edit(raw, 'targets.2.canary.expectRelay', '127.0.0.1');
  // A new file each time: the worker reloads its config when the file (name or mtime) changes.
  const path = join(dir, `config-${sessions.length}-${Date.now()}.yaml`);
  await writeFile(path, stringify(raw));
  vi.stubEnv('MRB_CONFIG', path);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mrb-provider-'));
  vi.stubEnv('MRB_TEST_RELAY_SASL', PASSWORD);
  relay = await fakeRelay();
  ({ port, sessions } = relay);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await relay.close();
  await rm(dir, { recursive: true, force: true });
});

describe('providerRelayLogin', () => {
  it('a relay without STARTTLS: a problem, and the password is never sent nor shown', async () => {
    await useConfig({
      flavour: 'provider',
      port,
      sasl: { user: 'AKIAEXAMPLE', password: { env: 'MRB_TEST_RELAY_SASL' } },
    });
    const before = sessions.length;
    const result = await providerRelayLogin(TARGET);
    expect(result.ok).toBe(false);
    expect(result.summary).toBe(
      `login to 127.0.0.1:${port} as AKIAEXAMPLE failed (tls): the server does not offer STARTTLS`,
    );
    expect(sessions.length).toBe(before + 1);
    const seen = sessions.at(-1)!;
    expect(seen[0]).toMatch(/^EHLO /);
    expect(seen.some((l) => l.startsWith('AUTH'))).toBe(false);
    const shown = JSON.stringify(result);
    expect(shown).not.toContain(PASSWORD);
    expect(shown).not.toContain(Buffer.from(`\u0000AKIAEXAMPLE\u0000${PASSWORD}`).toString('base64'));
  });

  it('relay.tls implicit: TLS before any SMTP; a plain-text server fails the handshake, nothing is said in clear', async () => {
    await useConfig({
      flavour: 'provider',
      port,
      tls: 'implicit',
      sasl: { user: 'AKIAEXAMPLE', password: { env: 'MRB_TEST_RELAY_SASL' } },
    });
    const before = sessions.length;
    const result = await providerRelayLogin(TARGET);
    expect(result.ok).toBe(false);
    expect(result.summary).toMatch(
      new RegExp(`^login to 127\\.0\\.0\\.1:${port} as AKIAEXAMPLE failed \\(tls\\): TLS handshake failed: `),
    );
    expect(result.evidence.probe?.failed?.hint).toBe(
      `the server answered in plain text: port ${port} wants STARTTLS (usually 587), not implicit TLS`,
    );
    expect(result.evidence.probe?.transcript).toEqual([`connected to 127.0.0.1:${port} from 127.0.0.1`]);
    expect(sessions.length).toBe(before + 1);
    // The fake saw the TLS ClientHello, never an SMTP command (no EHLO, no AUTH).
    expect(sessions.at(-1)!.some((l) => /^(EHLO|AUTH)/.test(l))).toBe(false);
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });

  it('without relay.sasl: ok, not checked, and no connection is made', async () => {
    await useConfig({ flavour: 'provider', port });
    const before = sessions.length;
    const result = await providerRelayLogin(TARGET);
    expect(result).toMatchObject({
      ok: true,
      summary: `no relay.sasl in the config: the login to 127.0.0.1:${port} is not checked`,
      evidence: { checked: false },
    });
    expect(sessions.length).toBe(before);
  });
});

describe('a provider relay and the rest of the worker', () => {
  it('the plan tells the workflow: smtp-only (an administered relay: ssh)', async () => {
    await useConfig({ flavour: 'provider', port });
    expect((await loadTargetPlan(TARGET)).relayAccess).toBe('smtp-only');
    expect((await loadTargetPlan('lab')).relayAccess).toBe('ssh');
  });

  it.each([
    ['relayPortListening', () => relayPortListening(TARGET)],
    ['relayLogs', () => relayLogs(TARGET)],
    ['restartRelayWatchdog', () => restartRelayWatchdog(TARGET, 'once-key')],
  ])('%s refuses it before any SSH, naming why (not retryable)', async (_name, call) => {
    await useConfig({ flavour: 'provider', port });
    await expect(call()).rejects.toMatchObject({
      message: `target ${TARGET}: the relay is a provider relay (no relay.ssh in the config): it cannot be reached over SSH`,
      nonRetryable: true,
    });
  });
});
