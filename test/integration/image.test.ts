/**
 * The image (docs/deploy.md, section 2): deploy/build-image.sh builds it locally from this checkout (no
 * registry; Docker's layer cache keeps a rebuild shorter), and in it the CLI answers as the unprivileged
 * user mrb: `--version`, and `config check` of the shipped example. The tag is kept as a build cache.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBaseImage } from '../../src/lab/base-image.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const IMAGE = 'mrb-test/mail-runbooks:test';
const VERSION = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

/** Runs a command in a throwaway container of the image: exit code and output. */
async function inImage(...argv: string[]) {
  try {
    const { stdout, stderr } = await run('docker', ['run', '--rm', '--network', 'none', IMAGE, ...argv], {
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  await ensureBaseImage(new Docker());
  const started = Date.now();
  await run(join(ROOT, 'deploy/build-image.sh'), [IMAGE], { timeout: 900_000 });
  console.log(`image: built in ${Math.round((Date.now() - started) / 1000)} s`);
}, 900_000);

describe('the image', () => {
  it('runs as the unprivileged user mrb by default', async () => {
    const id = await inImage('id');
    expect(id.stdout.trim()).toBe('uid=10001(mrb) gid=10001(mrb) groups=10001(mrb)');
    const { stdout } = await run('docker', ['image', 'inspect', '--format', '{{.Config.User}}', IMAGE]);
    expect(stdout.trim()).toBe('mrb:mrb');
    const commands = await inImage('ls', '/usr/local/bin');
    expect(commands.stdout.split('\n')).toEqual(
      expect.arrayContaining([
        'mail-runbooks',
        'mail-runbooks-start',
        'mail-runbooks-worker',
        'mail-runbooks-docker-proxy',
        'node',
      ]),
    );
  });

  it('mail-runbooks --version, and config check of the shipped example', async () => {
    const version = await inImage('mail-runbooks', '--version');
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toMatch(
      new RegExp(`^${VERSION.replace(/\./g, '\\.')}( \\(commit [0-9a-f]{12}(-modified)?\\))?\\n$`),
    );
    const check = await inImage(
      'mail-runbooks',
      'config',
      'check',
      '-c',
      '/opt/mail-runbooks/docs/config.example.yaml',
    );
    expect(check.stdout).toContain('targets: 1 (default: lab)');
  });

  it('has no config of its own: start without one is an error naming what to do, never the lab', async () => {
    const start = await inImage('mail-runbooks-start');
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(
      'config file /etc/mail-runbooks/mail-runbooks.yaml (from MRB_CONFIG) does not exist: create it, or point MRB_CONFIG at an existing file',
    );
  });
});
