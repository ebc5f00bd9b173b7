/**
 * The first-run checks: each missing or broken prerequisite gives one message saying what is wrong and what
 * to do. The probes run for real against things the test makes (a socket path that does not exist, a stale
 * socket file, a unix socket with mode 000 used by an unprivileged user, a port the test holds, a PATH
 * without go or temporal); the build failure comes from a captured Docker build transcript.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureDockerEngine } from '../../src/preflight/docker.js';
import {
  aptErrorLines,
  buildFailureProblem,
  debootstrapProblem,
  dockerProblem,
  formatProblem,
  listenerFromSs,
  PreflightError,
} from '../../src/preflight/problems.js';
import { portProblems } from '../../src/preflight/probes.js';
import { withProgress } from '../../src/preflight/progress.js';
import { startPortWants } from '../../src/preflight/start-ports.js';
import { DEFAULT_PORTS, labPortWants } from '../../src/lab/settings.js';
import {
  DEFAULT_CACHE_DIR,
  findTemporalBinary,
  temporalCliPreflight,
  toolsDirs,
} from '../../src/temporal/binary.js';
import { readFixture } from '../fixtures/read-fixture.js';
import { freePort } from '../helpers/ports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mrb-preflight-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fakeBin(names: string[]): Promise<string> {
  const bin = await mkdtemp(join(dir, 'bin-'));
  for (const name of names) {
    await writeFile(join(bin, name), '#!/bin/sh\nexit 0\n');
    await chmod(join(bin, name), 0o755);
  }
  return bin;
}

/** The message ensureDockerEngine throws for this socket and PATH (never starting dockerd). */
async function dockerMessage(socketPath: string, pathDirs: string[]): Promise<string> {
  const err = await ensureDockerEngine(new Docker({ socketPath }), {
    env: { PATH: pathDirs.join(':'), USER: 'alice' },
    extraDirs: [],
    autoStart: false,
    log: () => {},
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PreflightError);
  return (err as PreflightError).message;
}

describe('Docker', () => {
  it('not installed: no socket and neither docker nor dockerd on PATH', async () => {
    const message = await dockerMessage(join(dir, 'no-such.sock'), [await fakeBin([])]);
    expect(message).toMatch(
      /^Docker is not installed \(no docker or dockerd, nothing at unix:\/\/.*no-such\.sock\)\./,
    );
    expect(message).toMatch(
      /fix: install a Docker engine: on Debian\/Ubuntu `sudo apt-get install docker\.io`/,
    );
    expect(message).toMatch(/MRB_CONFIG/);
  });

  it('installed but the daemon is not running: no socket', async () => {
    const message = await dockerMessage(join(dir, 'no-such.sock'), [await fakeBin(['docker', 'dockerd'])]);
    expect(message).toMatch(/^Docker is installed but its daemon is not running \(no socket at unix:\/\//);
    expect(message).toMatch(/fix: start it: .*systemctl start docker/);
    expect(message).toMatch(/DOCKER_HOST points at/);
  });

  it('installed but the daemon is not running: a stale socket file refuses connections', async () => {
    const stale = join(dir, 'stale.sock');
    await writeFile(stale, '');
    const message = await dockerMessage(stale, [await fakeBin(['docker', 'dockerd'])]);
    expect(message).toMatch(/its daemon is not running \(connection refused at unix:\/\/.*stale\.sock\)/);
  });

  it('no permission on the socket (EACCES): says add the user to the docker group, or rootless', () => {
    const p = dockerProblem({
      endpoint: 'unix:///var/run/docker.sock',
      code: 'EACCES',
      dockerInstalled: true,
      dockerdInstalled: true,
      root: false,
      user: 'alice',
    })!;
    expect(p.problem).toBe('Docker: no permission to use unix:///var/run/docker.sock as user alice.');
    expect(p.fix).toMatch(/sudo usermod -aG docker alice/);
    expect(p.fix).toMatch(/rootless/);
  });

  it('no permission, for real: a unix socket with mode 000 probed by an unprivileged user', async () => {
    // A real listening socket nobody may use; root ignores the mode, so the probe runs as `nobody`.
    const sockDir = await mkdtemp(join(dir, 'sock-'));
    await chmod(sockDir, 0o755);
    const socketPath = join(sockDir, 'docker.sock');
    const server: Server = createServer((c) => c.end());
    await new Promise<void>((r) => server.listen(socketPath, r));
    try {
      await chmod(socketPath, 0o000);
      const probe = `import('./src/preflight/docker.ts').then(async ({ ensureDockerEngine }) => {
        const { default: Docker } = await import('dockerode');
        await ensureDockerEngine(new Docker({ socketPath: ${JSON.stringify(socketPath)} }), { autoStart: false, log: () => {} })
          .then(() => console.log('ANSWERED'), (e) => console.log(e.message));
      })`;
      const asNobody = process.getuid?.() === 0;
      const argv = asNobody
        ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath]
        : [process.execPath];
      const r = spawnSync(argv[0]!, [...argv.slice(1), '--import', 'tsx', '-e', probe], {
        cwd: ROOT,
        env: { ...process.env, USER: 'nobody', HOME: dir, TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json') },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.stdout, r.stderr).toMatch(
        /^Docker: no permission to use unix:\/\/.*docker\.sock as user nobody\./,
      );
      expect(r.stdout).toMatch(/usermod -aG docker nobody/);
    } finally {
      server.close();
    }
  }, 90_000);

  it.skipIf(process.getuid?.() !== 0)(
    'root, dockerd installed, the system socket silent: starts dockerd and waits for it (a fake dockerd here)',
    async () => {
      // The fake engine: answers GET /_ping on the socket, like dockerd once it is up (after a second).
      const socketPath = join(dir, 'system-docker.sock');
      const bin = await fakeBin(['docker']);
      const fake = join(bin, 'dockerd');
      await writeFile(
        fake,
        `#!${process.execPath}\nsetTimeout(() => require('node:http').createServer((q, r) => r.end('OK')).listen(${JSON.stringify(socketPath)}), 1000);\nsetTimeout(() => process.exit(0), 30000);\n`,
      );
      await chmod(fake, 0o755);
      const lines: string[] = [];
      await ensureDockerEngine(new Docker({ socketPath }), {
        env: { PATH: bin, USER: 'root' },
        extraDirs: [],
        systemSocket: socketPath,
        dockerdLog: join(dir, 'dockerd.log'),
        startTimeoutMs: 20_000,
        log: (l) => lines.push(l),
      });
      expect(lines[0]).toBe(
        `docker: no engine answers at unix://${socketPath}; starting ${fake} (running as root; log ${join(dir, 'dockerd.log')})`,
      );
      const answered = /^docker: dockerd \(pid (\d+)\) answers after \d+\.\d s$/.exec(lines.at(-1) ?? '');
      expect(answered, lines.join('\n')).not.toBeNull();
      process.kill(Number(answered![1]), 'SIGTERM'); // the fake engine this test started
      // A DOCKER_HOST elsewhere is not the system socket: nothing is started, the message says what to do.
      const other = join(dir, 'elsewhere.sock');
      await expect(
        ensureDockerEngine(new Docker({ socketPath: other }), {
          env: { PATH: bin, USER: 'root' },
          extraDirs: [],
          systemSocket: socketPath,
          log: () => {},
        }),
      ).rejects.toThrow(/daemon is not running/);
    },
    30_000,
  );

  it('a dockerd this process started that does not answer: points at its log', () => {
    const p = dockerProblem({
      endpoint: 'unix:///var/run/docker.sock',
      code: 'ENOENT',
      dockerInstalled: true,
      dockerdInstalled: true,
      root: true,
      user: 'root',
      autoStart: { log: '/var/log/dockerd-mail-runbooks.log', seconds: 60, tail: 'failed to start daemon' },
    })!;
    expect(p.problem).toMatch(/started dockerd, but it did not answer .* within 60 s/);
    expect(p.fix).toMatch(/dockerd-mail-runbooks\.log.*\nfailed to start daemon/);
  });

  it('an engine that answers: no problem', () => {
    expect(
      dockerProblem({
        endpoint: 'unix:///x',
        dockerInstalled: true,
        dockerdInstalled: true,
        root: true,
        user: 'r',
      }),
    ).toBeUndefined();
  });
});

describe('the Temporal CLI', () => {
  it('no Go and no temporal binary: one message with the three ways out', async () => {
    const empty = await fakeBin([]);
    const p = await temporalCliPreflight({ PATH: empty, MRB_TOOLS_DIR: empty }, []);
    expect(p?.problem).toMatch(/^No Temporal CLI \(temporal\) found, and Go is not installed to build it/);
    expect(p?.fix).toMatch(/apt-get install golang-go/);
    expect(p?.fix).toMatch(/MRB_TEMPORAL_BIN/);
    expect(p?.fix).toMatch(/TEMPORAL_ADDRESS/);
  });

  it('Go alone, or a binary alone, is enough', async () => {
    const empty = await fakeBin([]);
    expect(
      await temporalCliPreflight({ PATH: await fakeBin(['go']), MRB_TOOLS_DIR: empty }, []),
    ).toBeUndefined();
    expect(
      await temporalCliPreflight({ PATH: empty, MRB_TOOLS_DIR: await fakeBin(['temporal']) }, []),
    ).toBeUndefined();
  });
});

describe('one folder for the Temporal CLI, shared with .ci/run', () => {
  it('defaults to $MRB_CACHE/tools/bin (else /var/cache/mail-runbooks/tools/bin); MRB_TOOLS_DIR overrides', async () => {
    expect(toolsDirs({ HOME: '/home/u' })[0]).toBe(`${DEFAULT_CACHE_DIR}/tools/bin`);
    expect(toolsDirs({ MRB_CACHE: '/c', HOME: '/home/u' })[0]).toBe('/c/tools/bin');
    expect(toolsDirs({ MRB_TOOLS_DIR: '/t', MRB_CACHE: '/c' })).toEqual(['/t']);
    // A non-root user falls back to their own cache, and older clones' .tools/bin is still found.
    expect(toolsDirs({ HOME: '/home/u' })).toEqual([
      `${DEFAULT_CACHE_DIR}/tools/bin`,
      '/home/u/.cache/mail-runbooks/tools/bin',
      join(ROOT, '.tools', 'bin'),
    ]);
    const cache = await mkdtemp(join(dir, 'cache-'));
    await mkdir(join(cache, 'tools', 'bin'), { recursive: true });
    await writeFile(join(cache, 'tools', 'bin', 'temporal'), '#!/bin/sh\n');
    await chmod(join(cache, 'tools', 'bin', 'temporal'), 0o755);
    expect(await findTemporalBinary({ PATH: '', MRB_CACHE: cache, HOME: dir })).toEqual({
      path: join(cache, 'tools', 'bin', 'temporal'),
      source: 'tools',
    });
  });

  it('.ci/run builds into the same folder: it exports MRB_CACHE with the same default and sets no other tools folder', async () => {
    const ci = await readFile(join(ROOT, '.ci', 'run'), 'utf8');
    expect(ci).toContain(`CACHE=\${MRB_CACHE:-${DEFAULT_CACHE_DIR}}`);
    expect(ci).toMatch(/^export MRB_CACHE="\$CACHE"$/m);
    expect(ci).not.toMatch(/MRB_TOOLS_DIR=/);
    expect(ci).toMatch(/npm run --silent temporal:ensure/);
  });
});

describe('ports', () => {
  let held: Server | undefined;
  afterEach(() => {
    held?.close();
    held = undefined;
  });

  it('a port already taken: names it, what wanted it, who holds it and how to choose another', async () => {
    const port = await freePort();
    held = createServer();
    await new Promise<void>((r) => held!.listen(port, '127.0.0.1', r));
    const wants = startPortWants({ metricsAddress: `127.0.0.1:${port}` });
    const problems = await portProblems(wants);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.problem).toMatch(
      new RegExp(
        `^Port 127\\.0\\.0\\.1:${port} is already in use by node \\(pid ${process.pid}\\); the worker's metrics endpoint needs it\\.$`,
      ),
    );
    expect(problems[0]!.fix).toMatch(/MRB_METRICS_ADDRESS=127\.0\.0\.1:<port>/);
    expect(problems[0]!.fix).toMatch(new RegExp(`ss -ltnp 'sport = :${port}'`));
  });

  it('free ports: no problem', async () => {
    expect(await portProblems(startPortWants({ metricsAddress: `127.0.0.1:${await freePort()}` }))).toEqual(
      [],
    );
  });

  it("npm start's ports: 7233 and 8233 (Temporal), 9464 (metrics), 9095 (receiver), the lab's 9090 and 9093 (Prometheus, Alertmanager), each with its override", () => {
    const wants = startPortWants({
      temporal: { address: '127.0.0.1:7233', uiPort: 8233 },
      metricsAddress: '127.0.0.1:9464',
      receiver: { host: '127.0.0.1', port: 9095, config: '/x/.lab/target.yaml', lab: true },
      monitoring: { prometheusPort: 9090, alertmanagerPort: 9093 },
    });
    expect(wants.map((w) => [w.port, w.override.match(/MRB_[A-Z_]+|alerts\.listen\.port/)?.[0]])).toEqual([
      [7233, 'MRB_LOCAL_TEMPORAL_ADDRESS'],
      [8233, 'MRB_UI_PORT'],
      [9464, 'MRB_METRICS_ADDRESS'],
      [9095, 'MRB_CONFIG'],
      [9090, 'MRB_PROMETHEUS_PORT'],
      [9093, 'MRB_ALERTMANAGER_PORT'],
    ]);
    expect(startPortWants({ metricsAddress: 'off' })).toEqual([]);
  });

  it("the lab's ports, except those its own running containers already publish", () => {
    const wants = labPortWants(DEFAULT_PORTS, new Set([DEFAULT_PORTS.smtp]));
    expect(wants.map((w) => w.port).sort()).toEqual(
      Object.values(DEFAULT_PORTS)
        .filter((p) => p !== DEFAULT_PORTS.smtp)
        .sort(),
    );
    const submission = wants.find((w) => w.port === DEFAULT_PORTS.submission)!;
    expect(submission.wantedBy).toBe("the lab (submission: the mail server's submission (587))");
    expect(submission.override).toMatch(
      /npm run lab -- up --port submission=<port>.*MRB_LAB_PORTS=submission=<port>/,
    );
  });

  it('reads the listener from ss -ltnp output', () => {
    const ss = 'LISTEN 0 4096 127.0.0.1:7233 0.0.0.0:* users:(("temporal",pid=4242,fd=9))';
    expect(listenerFromSs(ss, 7233)).toBe('temporal (pid 4242)');
    expect(listenerFromSs(ss, 8233)).toBeUndefined();
  });
});

describe('the lab base image', () => {
  it('no debootstrap, or not root: says what to install or how to run', () => {
    expect(debootstrapProblem({ root: true })?.fix).toMatch(/apt-get install debootstrap/);
    expect(debootstrapProblem({ root: false, debootstrap: '/usr/sbin/debootstrap' })?.problem).toMatch(
      /needs root/,
    );
    expect(debootstrapProblem({ root: true, debootstrap: '/usr/sbin/debootstrap' })).toBeUndefined();
  });
});

describe('a failed lab image build', () => {
  it("names the image and the step, and quotes apt's error line (without Docker's colour codes)", () => {
    const transcript = readFixture('docker-build-apt-failure.txt');
    expect(aptErrorLines(transcript)).toEqual(['E: Unable to locate package mrb-no-such-package']);
    const message = formatProblem(
      buildFailureProblem({
        image: 'mrb-lab/mail:latest',
        step: 'step 2/2: RUN apt-get install -y --no-install-recommends mrb-no-such-package',
        error: "The command '/bin/sh -c apt-get install ...' returned a non-zero code: 100",
        transcript,
      }),
    );
    expect(message.split('\n')[0]).toBe(
      "lab: building mrb-lab/mail:latest failed at step 2/2: RUN apt-get install -y --no-install-recommends mrb-no-such-package: The command '/bin/sh -c apt-get install ...' returned a non-zero code: 100",
    );
    expect(message).toMatch(/fix: apt said:\n\s+E: Unable to locate package mrb-no-such-package\n/);
    expect(message).not.toContain('\u001b');
  });

  it('without apt errors: the last lines of the build', () => {
    const p = buildFailureProblem({
      image: 'i',
      error: 'boom',
      transcript: 'a\nb\nCOPY failed: no such file',
    });
    expect(p.fix).toMatch(/the last lines of the build:\n.*COPY failed: no such file/s);
  });
});

describe('progress of long phases', () => {
  it('says the phase and the time elapsed every interval until the work ends', async () => {
    vi.useFakeTimers();
    try {
      const lines: string[] = [];
      let finish!: () => void;
      const work = withProgress(
        (l) => lines.push(l),
        'lab: building mrb-lab/mail:latest',
        () => new Promise<void>((r) => (finish = r)),
      );
      await vi.advanceTimersByTimeAsync(46_000);
      finish();
      await work;
      await vi.advanceTimersByTimeAsync(30_000);
      expect(lines).toEqual([
        'lab: building mrb-lab/mail:latest (15 s)',
        'lab: building mrb-lab/mail:latest (30 s)',
        'lab: building mrb-lab/mail:latest (45 s)',
      ]);
    } finally {
      vi.useRealTimers();
    }
  });
});
