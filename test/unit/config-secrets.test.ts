/** Secret references, `config check` and the CLI around it, on real files in a temporary folder. */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCheck } from '../../src/cli/config.js';
import { checkConfig } from '../../src/config/check.js';
import { loadConfig } from '../../src/config/load.js';
import { SecretError, checkSecrets, resolveSecret } from '../../src/config/secrets.js';
import { stringify } from 'yaml';
import { FULL, edit, fullRaw } from './config-fixture.js';
import { generateSshKeyPair } from '../../src/transports/ssh-keygen.js';

const VALUE = 'correct horse battery staple';

/** Environment for the fixture's env references; all hold VALUE. */
const ENV = Object.fromEntries(
  [
    'MRB_TEST_CANARY_PASSWORD',
    'MRB_TEST_DEST_PASSWORD',
    'MRB_TEST_MX_KEY',
    'MRB_TEST_EDGE_PASSWORD',
    'MRB_TEST_WEBHOOK',
    'MRB_TEST_ALERT_TOKEN',
  ].map((name) => [name, VALUE]),
);

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mrb-secrets-'));
  await mkdir(join(dir, 'keys'));
  // The fixture's absolute /etc/mrb paths do not exist here: point them into the temporary folder.
  const text = FULL.replaceAll('/etc/mrb/', `${dir}/keys/`);
  await writeFile(join(dir, 'mail-runbooks.yaml'), text);
  for (const [file, mode] of [
    ['keys/relay_admin_ed25519', 0o600],
    ['keys/relay', 0o600],
    ['keys/docker', 0o644],
    ['ca.crt', 0o644],
    ['alert.pw', 0o600],
  ] as const) {
    await writeFile(join(dir, file), `${VALUE}\n`, { mode });
    await chmod(join(dir, file), mode);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function secretError(promise: Promise<unknown>): Promise<SecretError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SecretError);
  return err as SecretError;
}

describe('resolveSecret', () => {
  it('reads an environment variable', async () => {
    expect(await resolveSecret({ env: 'MRB_X' }, dir, { MRB_X: VALUE })).toBe(VALUE);
  });

  it('reads a file relative to the base folder, without the trailing newline', async () => {
    expect(await resolveSecret({ file: 'alert.pw' }, dir)).toBe(VALUE);
    await writeFile(join(dir, 'crlf'), `${VALUE}\r\n`);
    expect(await resolveSecret({ file: join(dir, 'crlf') })).toBe(VALUE);
  });

  it('keeps inner newlines (PEM keys)', async () => {
    await writeFile(join(dir, 'pem'), '-----BEGIN X-----\nabc\n-----END X-----\n');
    expect(await resolveSecret({ file: 'pem' }, dir)).toBe('-----BEGIN X-----\nabc\n-----END X-----');
  });

  it('names a missing variable, never a value', async () => {
    const err = await secretError(resolveSecret({ env: 'MRB_MISSING' }, dir, { OTHER: VALUE }));
    expect(err.message).toBe('environment variable MRB_MISSING is not set');
    expect(err.reference).toBe('env MRB_MISSING');
  });

  it('names a missing file', async () => {
    const err = await secretError(resolveSecret({ file: 'keys/nope' }, dir));
    expect(err.message).toBe(`secret file ${join(dir, 'keys/nope')} does not exist`);
  });

  it('refuses empty values, folders and huge files', async () => {
    expect((await secretError(resolveSecret({ env: 'E' }, dir, { E: '\n' }))).message).toBe('env E is empty');
    expect((await secretError(resolveSecret({ file: 'keys' }, dir))).message).toContain(
      'is not a regular file',
    );
    await writeFile(join(dir, 'big'), Buffer.alloc(1024 * 1024 + 1, 'a'));
    expect((await secretError(resolveSecret({ file: 'big' }, dir))).message).toContain('larger than 1 MiB');
  });

  it.skipIf(process.getuid?.() === 0)('says when a file is not readable', async () => {
    await writeFile(join(dir, 'locked'), VALUE, { mode: 0o000 });
    const err = await secretError(resolveSecret({ file: 'locked' }, dir));
    expect(err.message).toContain('is not readable by this user');
    expect(err.message).not.toContain(VALUE);
  });
});

describe('checkSecrets and checkConfig', () => {
  it('resolves every reference of a valid config and warns about open key files', async () => {
    const config = await loadConfig(join(dir, 'mail-runbooks.yaml'));
    const checks = await checkSecrets(config, { env: ENV });
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.map((c) => c.path)).toContain('targets.lab.relay.ssh.privateKey');
    // The CA is public; the Docker key is not.
    expect(checks.find((c) => c.path === 'targets.lab.canary.submission.ca')?.warning).toBeUndefined();
    expect(checks.find((c) => c.path.endsWith('engine.privateKey'))?.warning).toContain('chmod 600');
  });

  it('reports unresolvable references by name, never with values', async () => {
    const env = { ...ENV, MRB_TEST_ALERT_TOKEN: undefined };
    const result = await checkConfig(join(dir, 'mail-runbooks.yaml'), { env });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      `${join(dir, 'mail-runbooks.yaml')}: alerts.auth.bearerToken: secret not resolvable: environment variable MRB_TEST_ALERT_TOKEN is not set`,
    ]);
    expect(result.summary.targets.map((t) => t.name)).toEqual(['lab', 'edge', 'remote']);
    const text = renderCheck(result);
    expect(text).toContain('FAIL alerts.auth.bearerToken (env MRB_TEST_ALERT_TOKEN)');
    expect(text).toContain('verdict: NOT OK (1 problem)');
    expect(JSON.stringify(result)).not.toContain(VALUE);
    expect(text).not.toContain(VALUE);
  });

  it('passes when everything resolves', async () => {
    const result = await checkConfig(join(dir, 'mail-runbooks.yaml'), { env: ENV });
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.summary.targets[1]).toEqual({
      name: 'edge',
      mailServer: 'postfix via ssh ops@mx1.example.org:22',
      relay:
        'windows relay via ssh Administrator@192.0.2.10:22, mail port 2526, scheduled-task Relay Watchdog',
      canary: 'canary@example.org -> canary@example.net via mx1.example.org:465 (implicit)',
    });
    expect(renderCheck(result)).toMatch(/verdict: OK$/);
  });

  it('reports an invalid or missing file as problems, not exceptions', async () => {
    await writeFile(join(dir, 'bad.yaml'), 'version: 1\ndefaultTarget: lab\n');
    const bad = await checkConfig(join(dir, 'bad.yaml'), { env: ENV });
    expect(bad.ok).toBe(false);
    expect(bad.problems).toContain(`${join(dir, 'bad.yaml')}:1:1: targets: missing (required)`);
    const missing = await checkConfig(undefined, { env: {}, cwd: join(dir, 'keys') });
    expect(missing.problems).toEqual([
      expect.stringMatching(
        /^no config file \(none found: .*\): give one with --config <file> or MRB_CONFIG=<file>/,
      ),
    ]);
    expect(missing.summary.reason).toContain('none found');
  });

  it('checks that the receiver key is an ed25519 private key, and warns when nobody can sign', async () => {
    const rsa = join(dir, 'keys/receiver_rsa');
    await writeFile(rsa, generateSshKeyPair('rsa', { bits: 2048 }).private, { mode: 0o600 });
    let raw = edit(fullRaw(), 'targets.0.approval.receiverKey', { file: rsa });
    raw = edit(raw, 'approvers', { carol: { token: { env: 'MRB_TEST_ALERT_TOKEN' } } });
    raw = edit(raw, 'approverGroups', {});
    raw = edit(raw, 'targets.0.approval.approvers', ['carol']);
    raw = edit(raw, 'targets.0.approval.steps', {});
    const file = join(dir, 'approval.yaml');
    await writeFile(file, stringify(raw).replaceAll('/etc/mrb/', `${dir}/keys/`));
    const result = await checkConfig(file, { env: ENV });
    expect(result.problems).toEqual([
      `${file}: targets.lab.approval.receiverKey: the receiver key is a ssh-rsa key; approvals are signed with ed25519 keys only`,
    ]);
    // lab: carol's token works with the receiver key; edge and remote have neither keys nor a receiver key.
    expect(result.warnings.filter((w) => w.includes('can prove who they are'))).toEqual([
      expect.stringContaining(`${file}: targets.edge.approval.allowUnsigned: no approver`),
      expect.stringContaining(`${file}: targets.remote.approval.allowUnsigned: no approver`),
    ]);
  });

  it('checks the example config with dummy secrets in the environment', async () => {
    const env = Object.fromEntries(
      [
        'MRB_LAB_CANARY_PASSWORD',
        'MRB_LAB_DEST_PASSWORD',
        'MRB_CHAT_WEBHOOK_URL',
        'MRB_NOTIFY_SMTP_PASSWORD',
        'MRB_ALERT_TOKEN',
      ].map((n) => [n, 'dummy']),
    );
    const result = await checkConfig('docs/config.example.yaml', { env });
    expect(result.summary.targets.map((t) => t.name)).toEqual(['lab']);
    // Only the example's key and CA files (under /etc/mail-runbooks) are missing on a test machine.
    const failing = result.summary.secrets.filter((s) => !s.ok).map((s) => s.reference);
    expect(failing.every((r) => r.startsWith('file /etc/mail-runbooks/'))).toBe(true);
  });
});

describe('the mail-runbooks command', () => {
  const run = promisify(execFile);
  const bin = 'bin/mail-runbooks.js';

  it('exits 0 for a usable config and 1 otherwise', { timeout: 60_000 }, async () => {
    const env = { ...process.env, ...ENV, MRB_CONFIG: join(dir, 'mail-runbooks.yaml') };
    const ok = await run(process.execPath, [bin, 'config', 'check', '--json'], { env });
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true });
    const failed = await run(process.execPath, [bin, 'config', 'check', '--config', join(dir, 'bad.yaml')], {
      env,
    }).then(
      () => undefined,
      (err: { code?: number; stdout?: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toContain('targets: missing (required)');
  });
});
