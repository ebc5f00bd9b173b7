/**
 * Rewriting a SASL password table, with the real catalogue commands run by a real shell on this machine
 * (local transport) against files in a temporary folder. Only Postfix's own tools are played: `postconf`
 * names the table, `postfix reload` succeeds. The worker's config is replaced by a target whose table is
 * that file. Shown: the new file is 0600 before it is moved into place (whatever the umask), the result
 * keeps the original's owner and mode, a table read cut is neither compared nor written back, and a failed
 * rewrite leaves no "<table>.mrb-new" behind.
 */
import { chmod, chown, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalTransport } from '../../src/transports/local.js';
import type { ExecRequest, ExecResult, HostTransport } from '../../src/transports/index.js';

const PASSWORD = 'new-relay-password-7c1d';
const USER = 'relayuser';

let dir: string;
let table: string;
/** Called before each command; may answer it instead of the shell (Postfix's tools, injected failures). */
let intercept: (req: ExecRequest) => Promise<ExecResult | undefined> = async () => undefined;
const local = new LocalTransport();

const answer = (stdout: string, exitCode = 0): ExecResult => ({
  exitCode,
  stdout,
  stderr: exitCode === 0 ? '' : 'injected failure',
  truncated: { stdout: false, stderr: false },
  durationMs: 0,
});

const host: HostTransport = {
  description: 'local shell (test)',
  async exec(req) {
    const played = await intercept(req);
    if (played) return played;
    // State-changing commands arrive inside the host's once wrapper: the tool is an argument of it.
    const tool = req.argv.find((a) => a === 'postconf' || a === 'postfix');
    if (tool === 'postconf') return answer(`texthash:${table}\n`);
    if (tool === 'postfix') return answer('');
    return local.exec(req);
  },
  close: async () => undefined,
};

vi.mock('../../src/activities/context.js', async () =>
  (await import('../helpers/relay-credentials-context.js')).relayCredentialsContext({
    user: USER,
    password: PASSWORD,
    kind: 'postfix',
    mailLog: '/var/log/mail.log',
    host: () => host,
  }),
);

const { relayCredentialsInSync, syncRelayCredentials } =
  await import('../../src/activities/relay-credentials.js');

const env = new MockActivityEnvironment();
type SyncResult = Awaited<ReturnType<typeof syncRelayCredentials>>;
const sync = (key: string) =>
  env.run<[string, string], SyncResult, typeof syncRelayCredentials>(syncRelayCredentials, 'lab', key);
const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

const home = process.env.HOME;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mrb-sasl-'));
  table = join(dir, 'sasl_passwd');
  // The once wrapper keeps its markers under $HOME on a plain host: here, in the test's own folder.
  process.env.HOME = dir;
});
afterAll(async () => {
  process.env.HOME = home;
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  intercept = async () => undefined;
  await rm(`${table}.mrb-new`, { force: true });
  await writeFile(table, `# relay login\n[relay.lab.test]:2526 ${USER}:old-password\n`);
  await chmod(table, 0o640);
});

describe('rewriting a SASL password table', () => {
  it('creates the new file 0600 even under umask 022, and keeps the original owner and mode', async () => {
    await chown(table, 4321, 4322); // as root: any owner; otherwise the test's own ids are kept
    const before = await stat(table);
    const previousUmask = process.umask(0o022);
    let newFileMode: number | undefined;
    intercept = async (req) => {
      // The write (the one command fed the content): what mode has the new file once it holds the content?
      if (req.stdin === undefined) return undefined;
      const written = await local.exec(req);
      newFileMode = (await stat(`${table}.mrb-new`)).mode & 0o777;
      return written;
    };
    try {
      const result = await sync('rewrite-1');
      expect(result.ok).toBe(true);
    } finally {
      process.umask(previousUmask);
    }
    expect(newFileMode?.toString(8)).toBe('600');
    const after = await stat(table);
    expect((after.mode & 0o777).toString(8)).toBe('640');
    expect([after.uid, after.gid]).toEqual([before.uid, before.gid]);
    expect(await readFile(table, 'utf8')).toContain(`${USER}:${PASSWORD}`);
    expect(await exists(`${table}.mrb-new`)).toBe(false);
  });

  it('refuses to compare or write back a table whose read was cut, and leaves it as it was', async () => {
    const padding = `# ${'x'.repeat(100)}\n`.repeat(3000); // ~300 KiB, beyond the 256 KiB read
    const original = `[relay.lab.test]:2526 ${USER}:old-password\n${padding}[backup.lab.test]:25 other:keep\n`;
    await writeFile(table, original);
    await expect(env.run(relayCredentialsInSync, 'lab')).rejects.toThrow(/read cut/);
    await expect(sync('rewrite-2')).rejects.toThrow(/read cut/);
    expect(await readFile(table, 'utf8')).toBe(original);
    expect(await exists(`${table}.mrb-new`)).toBe(false);
  });

  it('removes the new file when putting it in place fails, and keeps the original', async () => {
    const original = await readFile(table, 'utf8');
    // The first command after the write (the one that puts the new file in place) fails.
    let written = false;
    let failed = false;
    intercept = async (req) => {
      if (req.stdin !== undefined) written = true;
      else if (written && !failed) return ((failed = true), answer('', 1));
      return undefined;
    };
    await expect(sync('rewrite-3')).rejects.toThrow(/failed/);
    expect(await exists(`${table}.mrb-new`)).toBe(false);
    expect(await readFile(table, 'utf8')).toBe(original);
  });
});
