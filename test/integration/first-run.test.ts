/**
 * A first run that explains itself, through the real entry points: `npm start` (node --import tsx
 * src/main.ts, what the npm script runs) and `npm run lab` (src/lab/cli.ts) with no Docker engine at
 * DOCKER_HOST, and `npm start` with a port it needs already taken, each end with the one message for that
 * problem, before anything slow starts (no lab container is touched). And a real failing image build on
 * the lab base image (a throwaway tag, not a lab image) names the step and quotes apt's error line.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGE } from '../../src/lab/base-image.js';
import { buildFromContext } from '../../src/lab/images.js';
import { PreflightError } from '../../src/preflight/problems.js';
import { freePort } from '../helpers/ports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mrb-first-run-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs an entry point to its end (bounded) and returns its exit code and everything it printed. */
function run(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not end within 90 s:\n${output}`));
    }, 90_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Ports of its own, so only the problem under test is there. */
async function startEnv(): Promise<NodeJS.ProcessEnv> {
  return {
    MRB_CONFIG: '',
    TEMPORAL_ADDRESS: '',
    MRB_LOCAL_TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    MRB_UI_PORT: String(await freePort()),
    MRB_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
    MRB_DATA_DIR: dir,
  };
}

describe('a first run that explains itself', () => {
  it('npm start with no Docker engine: one message saying the daemon is not running and how to start it', async () => {
    const socket = join(dir, 'no-docker.sock');
    const { code, output } = await run('src/main.ts', [], {
      ...(await startEnv()),
      DOCKER_HOST: `unix://${socket}`,
    });
    expect(code, output).toBe(1);
    expect(output).toContain(
      `npm start: Docker is installed but its daemon is not running (no socket at unix://${socket}).\n  fix: start it:`,
    );
    expect(output).toContain(`DOCKER_HOST points at unix://${socket}; unset it to use the default socket.`);
    expect(output).not.toMatch(/npm start failed|ENOENT|\n\s+at /);
    expect(output.match(/Docker is installed/g)).toHaveLength(1);
  });

  it('the lab CLI with no Docker engine: the same one message', async () => {
    const socket = join(dir, 'no-docker.sock');
    const { code, output } = await run('src/lab/cli.ts', ['status'], { DOCKER_HOST: `unix://${socket}` });
    expect(code, output).toBe(1);
    expect(output).toMatch(
      /^lab: Docker is installed but its daemon is not running \(no socket at unix:\/\//m,
    );
    expect(output).not.toMatch(/ENOENT|\n\s+at /);
  });

  it('npm start with a port taken: names the port, what needs it, who holds it and the override, before the lab', async () => {
    const env = await startEnv();
    const port = Number(env.MRB_METRICS_ADDRESS!.split(':')[1]);
    const held: Server = createServer();
    await new Promise<void>((r) => held.listen(port, '127.0.0.1', r));
    try {
      const { code, output } = await run('src/main.ts', [], env);
      expect(code, output).toBe(1);
      expect(output).toContain(
        `npm start: Port 127.0.0.1:${port} is already in use by node (pid ${process.pid}); the worker's metrics endpoint needs it.\n`,
      );
      expect(output).toContain(
        'or set MRB_METRICS_ADDRESS=127.0.0.1:<port> (or MRB_METRICS_ADDRESS=off for none).',
      );
      expect(output).not.toMatch(/^lab:|npm start failed/m);
    } finally {
      held.close();
    }
  });

  it("a failed image build names the step and quotes apt's error line", async () => {
    const docker = new Docker();
    await docker.getImage(BASE_IMAGE).inspect(); // the lab's base image (built by the lab)
    const context = await mkdtemp(join(dir, 'context-'));
    await writeFile(
      join(context, 'Dockerfile'),
      `FROM ${BASE_IMAGE}\nRUN apt-get install -y --no-install-recommends mrb-no-such-package\n`,
    );
    const tag = `mrb-preflight-test:${randomUUID().slice(0, 8)}`;
    const lines: string[] = [];
    const err = await buildFromContext(docker, {
      dir: context,
      tag,
      short: 'fail',
      log: (l) => lines.push(l),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PreflightError);
    const message = (err as PreflightError).message;
    expect(message.split('\n')[0]).toMatch(
      new RegExp(
        `^lab: building ${tag} failed at step 2/2: RUN apt-get install -y --no-install-recommends mrb-no-such-package: .*returned a non-zero code: 100$`,
      ),
    );
    expect(message).toMatch(/\n {2}fix: apt said:\n\s+E: Unable to locate package mrb-no-such-package\n/);
    expect(lines).toContain(
      'lab: [fail] step 2/2: RUN apt-get install -y --no-install-recommends mrb-no-such-package',
    );
    // Nothing is left behind: no image under the tag.
    await expect(docker.getImage(tag).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });
});
