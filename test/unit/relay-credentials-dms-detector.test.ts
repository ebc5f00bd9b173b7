/**
 * syncRelayCredentials on docker-mailserver: after rewriting `postfix-sasl-password.cf` and reloading, the
 * step waits until DMS's change detector has applied the file (its checksum list names the new SHA-512),
 * because the detector's own Postfix reload, a few seconds later, could strand a flush made before it.
 * The real catalogue commands run in a real shell; DMS's fixed paths are moved into a temporary folder, and
 * the detector is played by a timer that writes the checksum list as DMS's `sha512sum` would.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DMS_ONCE_BASE } from '../../src/commands/once.js';
import { LocalTransport } from '../../src/transports/local.js';
import type { ExecResult, HostTransport } from '../../src/transports/index.js';

const PASSWORD = 'new-relay-password-9e2f';
const USER = 'relayuser';
const SOURCE = '/tmp/docker-mailserver/postfix-sasl-password.cf';
const APPLIED = '/tmp/docker-mailserver-config-chksum';

let dir: string;
const local = new LocalTransport();
/** DMS's absolute paths, as they are in this test's folder. */
const moved = (arg: string): string =>
  arg
    .replaceAll(APPLIED, join(dir, 'chksum'))
    .replaceAll('/tmp/docker-mailserver/', `${dir}/dms/`)
    .replaceAll('/etc/postfix/', `${dir}/postfix/`)
    .replaceAll(DMS_ONCE_BASE, join(dir, 'once'));

const answer = (stdout: string): ExecResult => ({
  exitCode: 0,
  stdout,
  stderr: '',
  truncated: { stdout: false, stderr: false },
  durationMs: 0,
});
let reloads = 0;
const host: HostTransport = {
  description: 'local shell with DMS paths moved (test)',
  async exec(req) {
    const tool = req.argv.find((a) => a === 'postconf' || a === 'postfix');
    if (tool === 'postconf') return answer('texthash:/etc/postfix/sasl_passwd\n');
    if (tool === 'postfix') {
      reloads += 1;
      return answer('');
    }
    return local.exec({ ...req, argv: req.argv.map(moved) });
  },
  close: async () => undefined,
};

vi.mock('../../src/activities/context.js', async () =>
  (await import('../helpers/relay-credentials-context.js')).relayCredentialsContext({
    user: USER,
    password: PASSWORD,
    kind: 'dms',
    mailLog: '/var/log/mail/mail.log',
    host: () => host,
  }),
);

const { syncRelayCredentials } = await import('../../src/activities/relay-credentials.js');
const env = new MockActivityEnvironment();
type SyncResult = Awaited<ReturnType<typeof syncRelayCredentials>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mrb-sasl-dms-'));
  await mkdir(join(dir, 'dms'));
  await mkdir(join(dir, 'postfix'));
  const stale = `[relay.lab.test]:2526 ${USER}:old-password\n`;
  await writeFile(moved(SOURCE), stale);
  await writeFile(moved('/etc/postfix/sasl_passwd'), stale);
  await writeFile(moved(APPLIED), `${createHash('sha512').update(stale).digest('hex')}  ${SOURCE}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("syncRelayCredentials and DMS's change detector", () => {
  it('returns only once the detector lists the rewritten source, and says so', async () => {
    // The detector's pass, 1.5 s after the step starts: the checksum list of the source as it is then.
    const detector = setTimeout(() => {
      void (async () => {
        const now = await readFile(moved(SOURCE), 'utf8');
        await writeFile(moved(APPLIED), `${createHash('sha512').update(now).digest('hex')}  ${SOURCE}\n`);
      })();
    }, 1_500);
    const started = Date.now();
    try {
      const result = await env.run<[string, string], SyncResult, typeof syncRelayCredentials>(
        syncRelayCredentials,
        'lab',
        'dms-detector-1',
      );
      expect(result.ok).toBe(true);
      expect(result.summary).toMatch(
        /the change detector applied \/tmp\/docker-mailserver\/postfix-sasl-password\.cf/,
      );
      expect(result.summary).not.toContain(PASSWORD);
    } finally {
      clearTimeout(detector);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    expect(await readFile(moved(SOURCE), 'utf8')).toContain(`${USER}:${PASSWORD}`);
    expect(reloads).toBe(1);
  });
});
