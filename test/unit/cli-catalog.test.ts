/**
 * The CLI's offline commands in-process (no Temporal server): `runbooks` from the registry, `targets` from a
 * config without a secret or its reference, and `init` from flags: a commented config that passes
 * `config check` once its secret files exist, refused without the flags it needs, never overwriting.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/client.js';
import type { CheckResult } from '../../src/config/check.js';
import { loadConfig } from '../../src/config/load.js';
import { RUNBOOKS } from '../../src/shared/runbooks.js';
import { generateSshKeyPair } from '../../src/transports/ssh-keygen.js';
import { FP } from './config-fixture.js';

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) });
  return { code, stdout, stderr };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mrb-cli-catalog-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runbooks', () => {
  it('lists every registered runbook with its description, from the registry', async () => {
    const r = await cli('runbooks', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(
      Object.entries(RUNBOOKS).map(([name, description]) => ({ name, description })),
    );
    const text = await cli('runbooks');
    expect(text.stdout).toMatch(/^statusCheck\s+read-only status of the mail server/m);
  });
});

describe('targets', () => {
  it('shows where each part is, the policy, schedules and routes, and no secret or reference', async () => {
    const r = await cli('targets', '-c', 'docs/config.production.example.yaml', '--json');
    expect(r.code, r.stderr).toBe(0);
    const [mx1] = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(mx1).toMatchObject({
      name: 'mx1',
      default: true,
      mailServer: expect.stringContaining('dms container mailserver') as unknown,
      relay: expect.stringContaining('ssh mrb-relay@relay.example.org:22') as unknown,
      approval: { approvers: ['group:mail-admins'], minApprovals: 1, allowUnsigned: false },
      alertRoutes: expect.arrayContaining([
        { alertname: 'SmtpRelayDown', runbook: 'relayUnresponsive' },
      ]) as unknown,
    });
    const text = await cli('targets', '--config', 'docs/config.production.example.yaml');
    for (const output of [r.stdout, text.stdout]) {
      expect(output).not.toMatch(/\/etc\/mail-runbooks|secrets\/|password|token|privateKey|\{ ?file/i);
    }
    expect(text.stdout).toMatch(/^mx1 \(default\)$/m);
  });

  it('names the missing config in one line', async () => {
    const r = await cli('targets', '-c', join(dir, 'nope.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^mail-runbooks: targets needs a config file: config file .*nope\.yaml \(given with --config\) does not exist/,
    );
  });
});

describe('init', () => {
  /** init's flags with the relay's given by `relay`, for target mx9 and its canary. */
  const initFlags = (file: string, secrets: string, relay: string[]) => [
    'init',
    '-c',
    file,
    '--no-input',
    '--target',
    'mx9',
    ...relay,
    '--submission-host',
    'mx9.example.org',
    '--canary-from',
    'canary@example.org',
    '--canary-to',
    'canary@example.net',
    '--canary-password-file',
    join(secrets, 'canary-password'),
    '--alert-token-file',
    join(secrets, 'alert-token'),
  ];
  const flags = (file: string, secrets: string) =>
    initFlags(file, secrets, [
      '--relay-host',
      'relay.example.org',
      '--relay-host-key',
      FP.a,
      '--relay-key',
      join(secrets, 'relay_ed25519'),
    ]);

  it('writes a commented config from flags that passes config check once its secrets exist', async () => {
    const secrets = await mkdtemp(join(dir, 'secrets-'));
    await writeFile(join(secrets, 'relay_ed25519'), generateSshKeyPair('ed25519', {}).private, {
      mode: 0o600,
    });
    await writeFile(join(secrets, 'canary-password'), 'not-a-real-password\n', { mode: 0o600 });
    await writeFile(join(secrets, 'alert-token'), 'not-a-real-token\n', { mode: 0o600 });
    const file = join(dir, 'init-ok.yaml');
    const r = await cli(...flags(file, secrets), '--json');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const { written, check } = JSON.parse(r.stdout) as { written: string; check: CheckResult };
    expect(written).toBe(file);
    expect(check).toMatchObject({ ok: true, problems: [] });
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^# mail-runbooks configuration written by `npx mail-runbooks init`/);
    expect(text).toContain('# the rights of docs/production.md step 3, nothing more');
    const config = await loadConfig(file);
    expect(config.targets[0]).toMatchObject({
      name: 'mx9',
      relay: { ssh: { host: 'relay.example.org', port: 22, user: 'mrb-relay', hostKey: FP.a }, port: 2526 },
      canary: { from: 'canary@example.org', to: 'canary@example.net', expectRelay: 'relay.example.org' },
    });
    expect(config.alerts?.routes.map((route) => route.match.alertname)).toContain('PostfixInboundDeferred');
    // Secrets are references to the files, never their contents.
    expect(text).not.toContain('not-a-real-password');
    expect(text).not.toContain('not-a-real-token');
  });

  it('writes the file but says NOT OK while a secret file is missing', async () => {
    const file = join(dir, 'init-missing.yaml');
    const r = await cli(...flags(file, join(dir, 'no-such-dir')));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^wrote .*init-missing\.yaml$/m);
    expect(r.stdout).toMatch(/verdict: NOT OK/);
    expect(r.stdout).toMatch(/FAIL targets\.mx9\.canary\.submission\.password/);
  });

  it('names the flags it needs when nobody can answer, and never overwrites', async () => {
    const file = join(dir, 'init-none.yaml');
    const r = await cli('init', '-c', file, '--no-input');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /init needs --relay-host, --relay-host-key, --submission-host, --canary-from, --canary-to/,
    );
    await writeFile(file, 'keep me\n');
    const again = await cli(...flags(file, dir));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists: nothing written \(--force overwrites it\)/);
    expect(await readFile(file, 'utf8')).toBe('keep me\n');
  });

  it('asks in a terminal for what the flags do not give, defaults on an empty answer', async () => {
    const file = join(dir, 'init-asked.yaml');
    const answers: Record<string, string> = {
      'relay host (SSH)': 'relay.example.org',
      "relay's pinned host key": FP.a,
      'mail server host for SMTP submission': 'mx9.example.org',
      'canary account on the mail server': 'canary@example.org',
      'canary destination mailbox': 'canary@example.net',
    };
    const asked: string[] = [];
    let stdout = '';
    const code = await run(['init', '-c', file, '--target', 'mx9'], {
      stdout: (t) => void (stdout += t),
      stderr: () => undefined,
      ask: (question) => {
        asked.push(question);
        const key = Object.keys(answers).find((k) => question.startsWith(k));
        return Promise.resolve(key ? answers[key]! : '');
      },
    });
    expect(stdout).toMatch(/^wrote .*init-asked\.yaml$/m);
    expect(code).toBe(1); // the default secret files do not exist here
    expect(asked.some((q) => q.startsWith('target name'))).toBe(false); // given as a flag
    expect(asked).toContain("relay's SSH port [22]: ");
    const config = await loadConfig(file);
    expect(config.targets[0]).toMatchObject({
      name: 'mx9',
      relay: { ssh: { host: 'relay.example.org', port: 22, user: 'mrb-relay', hostKey: FP.a } },
      canary: { to: 'canary@example.net' },
    });
  });

  describe('a provider relay (Amazon SES, Mailgun, a smarthost: --relay-flavour provider)', () => {
    const providerFlags = (file: string, secrets: string, ...relay: string[]) =>
      initFlags(file, secrets, [
        '--relay-flavour',
        'provider',
        '--relay-host',
        'email-smtp.eu-west-1.amazonaws.com',
        ...relay,
      ]);

    it('writes a provider relay without ssh, service or logs, with its SASL secret file: config check passes', async () => {
      const secrets = await mkdtemp(join(dir, 'secrets-'));
      await writeFile(join(secrets, 'canary-password'), 'not-a-real-password\n', { mode: 0o600 });
      await writeFile(join(secrets, 'alert-token'), 'not-a-real-token\n', { mode: 0o600 });
      await writeFile(join(secrets, 'relay-sasl'), 'not-a-real-sasl-password\n', { mode: 0o600 });
      const file = join(dir, 'init-provider.yaml');
      const r = await cli(
        ...providerFlags(
          file,
          secrets,
          '--relay-port',
          '465',
          '--relay-sasl-user',
          'AKIAEXAMPLEEXAMPLE',
          '--relay-sasl-password-file',
          join(secrets, 'relay-sasl'),
        ),
        '--json',
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const { check } = JSON.parse(r.stdout) as { check: CheckResult };
      expect(check).toMatchObject({ ok: true, problems: [] });
      expect(check.summary.targets[0]!.relay).toBe(
        'provider relay email-smtp.eu-west-1.amazonaws.com:465 (implicit TLS), SMTP checks only (no ssh: restarts and relay logs are handed to a person), login checked as AKIAEXAMPLEEXAMPLE',
      );
      const config = await loadConfig(file);
      expect(config.targets[0]!.relay).toEqual({
        flavour: 'provider',
        port: 465,
        tls: 'implicit', // port 465 alone means implicit TLS; init writes it out
        sasl: { user: 'AKIAEXAMPLEEXAMPLE', password: { file: join(secrets, 'relay-sasl') } },
      });
      expect(config.targets[0]!.canary.expectRelay).toBe('email-smtp.eu-west-1.amazonaws.com');
      const text = await readFile(file, 'utf8');
      expect(text).toContain('# A relay we cannot log in to: checked over SMTP only');
      expect(text).not.toContain('not-a-real-sasl-password');
    });

    it('defaults to port 587 with STARTTLS, and without --relay-sasl-user writes no sasl (no login check)', async () => {
      const file = join(dir, 'init-provider-587.yaml');
      const r = await cli(...providerFlags(file, dir));
      expect(r.stdout).toMatch(/^wrote .*init-provider-587\.yaml$/m);
      const config = await loadConfig(file);
      expect(config.targets[0]!.relay).toEqual({ flavour: 'provider', port: 587, tls: 'starttls' });
    });

    it('refuses the flags of an administered relay, and an unknown flavour or TLS mode', async () => {
      const ssh = await cli(
        ...providerFlags(
          join(dir, 'init-provider-ssh.yaml'),
          dir,
          '--relay-host-key',
          FP.a,
          '--relay-log',
          '/x',
        ),
      );
      expect(ssh.code).toBe(1);
      expect(ssh.stderr).toContain(
        'not for this relay (a provider relay has no SSH, service or logs): --relay-host-key (linux relay only); --relay-log (linux relay only)',
      );
      const tls = await cli(...providerFlags(join(dir, 'init-provider-tls.yaml'), dir, '--relay-tls', 'ssl'));
      expect(tls.stderr).toMatch(/--relay-tls ssl: use one of starttls, implicit/);
      const args = providerFlags(join(dir, 'init-provider-flavour.yaml'), dir);
      args[args.indexOf('provider')] = 'ses';
      const flavour = await cli(...args);
      expect(flavour.stderr).toMatch(/--relay-flavour ses: use one of linux, provider/);
      expect(
        await cli(...flags(join(dir, 'init-linux-tls.yaml'), dir), '--relay-tls', 'implicit'),
      ).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('not for this relay: --relay-tls (provider relay only)') as unknown,
      });
    });

    it('asks in a terminal: the flavour first, then only what a provider relay needs', async () => {
      const file = join(dir, 'init-provider-asked.yaml');
      const answers: Record<string, string> = {
        'relay flavour': 'provider',
        'relay host': 'smtp.mailgun.org',
        "relay's SMTP port": '',
        'how the relay speaks TLS': '',
        'SASL user at the relay': 'postmaster@mg.example.org',
        "file holding that user's password": '',
        'mail server host for SMTP submission': 'mx9.example.org',
        'canary account on the mail server': 'canary@example.org',
        'canary destination mailbox': 'canary@example.net',
      };
      const asked: string[] = [];
      await run(['init', '-c', file, '--target', 'mx9'], {
        stdout: () => undefined,
        stderr: () => undefined,
        ask: (question) => {
          asked.push(question);
          const key = Object.keys(answers).find((k) => question.startsWith(k));
          return Promise.resolve(key ? answers[key]! : '');
        },
      });
      expect(asked).toContain("relay host (the provider's SMTP server, as DMS's RELAY_HOST names it): ");
      expect(asked).toContain("relay's SMTP port (587 STARTTLS, 465 implicit TLS) [587]: ");
      expect(asked).toContain('how the relay speaks TLS (starttls | implicit) [starttls]: ');
      const flavourAt = asked.findIndex((q) => /^relay flavour \(linux: .*\) \[linux\]: $/.test(q));
      expect(flavourAt).toBe(2); // after the container and the Docker socket, before any relay question
      expect(asked.slice(flavourAt + 1).some((q) => /SSH|host key|service|log file/.test(q))).toBe(false);
      const config = await loadConfig(file);
      expect(config.targets[0]!.relay).toEqual({
        flavour: 'provider',
        port: 587,
        tls: 'starttls',
        sasl: {
          user: 'postmaster@mg.example.org',
          password: { file: '/etc/mail-runbooks/secrets/relay-sasl-password' },
        },
      });
    });
  });

  it('a value cannot add keys: it is written quoted', async () => {
    const file = join(dir, 'init-inject.yaml');
    const args = flags(file, dir);
    args[args.indexOf('--target') + 1] = 'mx9\n    evil: true';
    const r = await cli(...args);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/targets\[0\]\.name: .* is not a valid name/);
    expect(await readFile(file, 'utf8')).toContain('"mx9\\n    evil: true"');
  });
});
