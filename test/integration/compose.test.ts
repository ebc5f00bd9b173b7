/**
 * The compose file (docs/deploy.md, section 3) brought up for real with Debian's docker-compose 1.29:
 * deploy/compose.yaml as shipped, with only what a test must change (see `testCopy`), next to the real
 * docker-mailserver built here. The image comes from deploy/build-image.sh. Then: Temporal answers, the
 * worker reaches it and reaches Docker only through the socket proxy (its container has no Docker socket),
 * the proxy refuses what is not exec in the mail server, and a statusCheck started with
 * `docker-compose exec mail-runbooks mail-runbooks start` ends healthy with evidence that came from commands
 * run in the mail server's container. `docker-compose down -v` always.
 *
 * Uses none of the shared mrb-lab-* containers (no lab lock): its own project, network and volumes, named
 * mrb-compose-<random>. MRB_COMPOSE_TEST_IMAGE=<tag> uses an image already built from this checkout
 * instead of building one (for working on this test only).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ensureBaseImage } from '../../src/lab/base-image.js';
import { DMS_IMAGE, ensureDmsImage } from '../../src/lab/dms-image.js';
import { dexec } from '../../src/lab/docker.js';
import { ssha512 } from '../../src/lab/material.js';
import type { RunView } from '../../src/cli/run-state.js';
import { pollUntil } from '../helpers/poll.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const docker = new Docker();
const PROJECT = `mrb-compose-${randomBytes(4).toString('hex')}`;
const IMAGE = process.env.MRB_COMPOSE_TEST_IMAGE || 'mrb-test/mail-runbooks:compose';
const DOMAIN = 'compose.test';
const MAIL_HOSTNAME = `mail.${DOMAIN}`;
const MAILSERVER = `${PROJECT}-mailserver`;
const CANARY = `canary@${DOMAIN}`;
const PROXY_SOCKET = '/run/docker-proxy/docker.sock';
/** The mail-runbooks user of the image: the mounted config and secrets must be readable by it. */
const MRB_UID = 10001;

const timings: string[] = [];
const log = (line: string): void => console.log(`compose test: ${line}`);
function timed(what: string, since: number): void {
  const line = `${what}: ${((Date.now() - since) / 1000).toFixed(1)} s`;
  timings.push(line);
  log(line);
}

let dir = '';
let composeVersion = '';
let env: NodeJS.ProcessEnv = {};

/** docker-compose for this project, on the test's copy of the compose file. Throws on a non-zero exit. */
async function compose(args: string[], timeoutMs = 120_000): Promise<string> {
  const { stdout } = await run(
    'nice',
    ['-n', '19', 'docker-compose', '-p', PROJECT, '-f', join(dir, 'compose.yaml'), ...args],
    { cwd: dir, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

/** `docker-compose exec -T <service> argv`: exit code and output, whatever the exit. */
async function composeExec(service: string, argv: string[], timeoutMs = 60_000) {
  try {
    const stdout = await compose(['exec', '-T', service, ...argv], timeoutMs);
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? e.message,
    };
  }
}

/**
 * An Engine API call from inside the worker's container, to the proxy's socket (the only Docker socket
 * there), with the image's node: the HTTP status, or "error <why>".
 */
async function askFromWorker(method: string, path: string): Promise<string> {
  const script = `const r=require('http').request({socketPath:process.argv[1],method:process.argv[2],path:process.argv[3],headers:{'content-type':'application/json'}},(res)=>{console.log(res.statusCode);res.resume()});r.on('error',(e)=>{console.log('error '+e.message)});r.end(process.argv[2]==='POST'?'{"Cmd":["true"]}':undefined)`;
  const r = await composeExec('mail-runbooks', ['node', '-e', script, PROXY_SOCKET, method, path]);
  return r.stdout.trim();
}

/** The container of a service of this project (compose's labels), inspected. */
async function serviceContainer(service: string) {
  const [found] = await docker.listContainers({
    all: true,
    filters: {
      label: [`com.docker.compose.project=${PROJECT}`, `com.docker.compose.service=${service}`],
    },
  });
  if (!found) throw new Error(`no container for service ${service}`);
  return docker.getContainer(found.Id).inspect();
}

/** The loopback host port compose published for a service's container port. */
async function publishedPort(service: string, port: number): Promise<number> {
  const out = (await compose(['port', service, String(port)])).trim();
  const published = Number(/:(\d+)$/.exec(out)?.[1]);
  if (!out.startsWith('127.0.0.1:') || !published)
    throw new Error(`${service} ${port}: published as "${out}"`);
  return published;
}

/** The proxy's log lines of refused calls. */
async function refusedByProxy(): Promise<string[]> {
  const logs = await compose(['logs', '--no-color', 'docker-proxy']);
  return logs.split('\n').filter((l) => l.includes('docker-proxy: 403 '));
}

type Service = Record<string, unknown> & { ports?: string[]; environment?: Record<string, string> };

/**
 * deploy/compose.yaml with what a test must change, and nothing else: no fixed host ports (compose picks
 * free loopback ones), a container name of its own for the mail server (the proxy's allowed container
 * follows it), docker-mailserver's settings for a machine without internet (no update check, no scanners)
 * and TLS from the test's certificate, no route out of the project's network, and low CPU shares.
 */
function testCopy(shipped: { services: Record<string, Service> }) {
  const services = shipped.services;
  const loopbackOnly = (s: Service) => {
    s.ports = (s.ports ?? []).map((p) => `127.0.0.1::${p.split(':').at(-1)!}`);
  };
  for (const service of Object.values(services)) {
    if (service.ports) loopbackOnly(service);
    service.cpu_shares = 2;
  }
  services.mailserver!.container_name = MAILSERVER;
  services.mailserver!.environment = {
    ENABLE_UPDATE_CHECK: '0',
    ENABLE_CLAMAV: '0',
    ENABLE_RSPAMD: '0',
    ENABLE_AMAVIS: '0',
    ENABLE_SPAMASSASSIN: '0',
    ENABLE_OPENDKIM: '0',
    ENABLE_OPENDMARC: '0',
    ENABLE_POLICYD_SPF: '0',
    ENABLE_FAIL2BAN: '0',
    ENABLE_POSTGREY: '0',
    PERMIT_DOCKER: 'none',
    SSL_TYPE: 'manual',
    SSL_CERT_PATH: '/tmp/docker-mailserver/ssl/cert.pem',
    SSL_KEY_PATH: '/tmp/docker-mailserver/ssl/key.pem',
  };
  services['docker-proxy']!.environment!.MRB_PROXY_CONTAINER = MAILSERVER;
  return {
    ...shipped,
    networks: {
      default: { driver_opts: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' } },
    },
  };
}

/**
 * The config the worker reads (deploy/config/mail-runbooks.yaml in the shipped layout): the mail server
 * through the proxy's socket; the canary on the mail server's submission port; as the relay, a stand-in
 * provider relay (SMTP checks only): the mail server's own port 25 with STARTTLS; the receiver on all
 * addresses of its container (published on loopback), its token from the environment file.
 */
function workerConfig(): string {
  return stringify({
    version: 1,
    defaultTarget: 'mx1',
    targets: [
      {
        name: 'mx1',
        mailServer: {
          kind: 'dms',
          docker: { engine: { type: 'socket', socketPath: PROXY_SOCKET }, container: MAILSERVER },
          mailLog: '/var/log/mail/mail.log',
        },
        relay: { flavour: 'provider', port: 25 },
        canary: {
          submission: {
            host: 'mailserver',
            port: 587,
            tls: 'starttls',
            ca: { file: '/etc/mail-runbooks/mail-ca.pem' },
            servername: MAIL_HOSTNAME,
            user: CANARY,
            password: { file: '/etc/mail-runbooks/secrets/canary-password' },
          },
          from: CANARY,
          to: CANARY,
          expectRelay: 'mailserver',
        },
      },
    ],
    alerts: {
      listen: { host: '0.0.0.0', port: 9095 },
      auth: { bearerToken: { env: 'MRB_ALERT_TOKEN' } },
      routes: [{ match: { alertname: 'PostfixShowqUnreachable' }, runbook: 'statusCheck', target: 'mx1' }],
    },
  });
}

async function writeOwned(path: string, text: string, mode: number): Promise<void> {
  await writeFile(path, text, { mode });
  await chmod(path, mode);
  await chown(path, MRB_UID, MRB_UID);
}

beforeAll(async () => {
  composeVersion = (await run('docker-compose', ['version', '--short'])).stdout.trim();
  log(`docker-compose ${composeVersion}, project ${PROJECT}`);

  let t = Date.now();
  if (!process.env.MRB_COMPOSE_TEST_IMAGE) {
    await ensureBaseImage(docker);
    await run('nice', ['-n', '19', join(ROOT, 'deploy/build-image.sh'), IMAGE], { timeout: 1_500_000 });
    timed(`image ${IMAGE} built by deploy/build-image.sh`, t);
  }
  t = Date.now();
  await ensureDmsImage(docker, log);
  timed(`${DMS_IMAGE} ready`, t);

  dir = await mkdtemp(join(tmpdir(), `${PROJECT}-`));
  const shipped = parse(await readFile(join(ROOT, 'deploy/compose.yaml'), 'utf8')) as {
    services: Record<string, Service>;
  };
  await writeFile(join(dir, 'compose.yaml'), stringify(testCopy(shipped)));

  // docker-mailserver's config volume: TLS material and the canary account (postfix-accounts.cf, so the
  // start script need not wait for `setup email add`).
  const dmsConfig = join(dir, 'docker-data/dms/config');
  await mkdir(join(dmsConfig, 'ssl'), { recursive: true });
  await run(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dmsConfig, 'ssl/key.pem'),
      '-out',
      join(dmsConfig, 'ssl/cert.pem'),
      '-days',
      '2',
      '-subj',
      `/CN=${MAIL_HOSTNAME}`,
      '-addext',
      `subjectAltName=DNS:${MAIL_HOSTNAME},DNS:mailserver`,
    ],
    { timeout: 60_000 },
  );
  const canaryPassword = randomBytes(12).toString('base64url');
  await writeFile(join(dmsConfig, 'postfix-accounts.cf'), `${CANARY}|${ssha512(canaryPassword)}\n`);

  // The worker's config folder (mounted read-only) and environment file, readable by the image's user.
  const config = join(dir, 'config');
  await mkdir(join(config, 'secrets'), { recursive: true });
  await chown(config, MRB_UID, MRB_UID);
  await chown(join(config, 'secrets'), MRB_UID, MRB_UID);
  await writeOwned(join(config, 'mail-runbooks.yaml'), workerConfig(), 0o640);
  await writeOwned(
    join(config, 'mail-ca.pem'),
    await readFile(join(dmsConfig, 'ssl/cert.pem'), 'utf8'),
    0o644,
  );
  await writeOwned(join(config, 'secrets/canary-password'), canaryPassword, 0o600);
  await writeFile(
    join(dir, 'mail-runbooks.env'),
    `MRB_ALERT_TOKEN=${randomBytes(18).toString('base64url')}\n`,
    {
      mode: 0o600,
    },
  );

  env = {
    ...process.env,
    MRB_IMAGE: IMAGE,
    MAILSERVER_IMAGE: DMS_IMAGE,
    MAIL_HOSTNAME,
    DOCKER_GID: String((await stat('/var/run/docker.sock')).gid),
  };
  t = Date.now();
  await compose(['up', '-d'], 300_000);
  timed('docker-compose up -d', t);
  const ms = await serviceContainer('mailserver');
  await pollUntil(
    240_000,
    `${MAILSERVER} listening on smtp (docker-mailserver's compose health check)`,
    async () => {
      if (!(await docker.getContainer(ms.Id).inspect()).State.Running) throw new Error('mailserver stopped');
      const r = await dexec(
        docker,
        MAILSERVER,
        ['sh', '-c', "ss --listening --ipv4 --tcp | grep --silent ':smtp'"],
        {
          timeoutMs: 20_000,
        },
      );
      return r.exitCode === 0 ? true : undefined;
    },
  );
  timed('up to docker-mailserver listening on smtp', t);
}, 2_400_000);

afterAll(async () => {
  if (dir) {
    const t = Date.now();
    await compose(['down', '-v', '--remove-orphans', '-t', '10'], 180_000).catch((err: unknown) =>
      log(`docker-compose down failed: ${(err as Error).message}`),
    );
    timed('docker-compose down -v', t);
    await rm(dir, { recursive: true, force: true });
  }
  log(`times:\n  ${timings.join('\n  ')}`);
}, 300_000);

describe(`deploy/compose.yaml with docker-compose`, () => {
  it('the shipped file is accepted as it is (no top-level name: docker-compose 1.29 refuses it)', async () => {
    // A byte copy beside the test's environment file (the shipped env_file, relative to the compose file).
    const shipped = join(dir, 'shipped.yaml');
    await writeFile(shipped, await readFile(join(ROOT, 'deploy/compose.yaml')));
    const out = await run('docker-compose', ['-f', shipped, 'config', '--services'], {
      env,
      timeout: 60_000,
    });
    expect(out.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'docker-proxy',
      'mail-runbooks',
      'mailserver',
      'temporal',
    ]);
  });

  it('temporal answers, on its network and on the published Web UI port', async () => {
    const t = Date.now();
    const health = await pollUntil(120_000, 'temporal operator cluster health', async () => {
      const r = await composeExec('temporal', [
        'temporal',
        'operator',
        'cluster',
        'health',
        '--address',
        '127.0.0.1:7233',
      ]);
      return r.code === 0 ? r.stdout : undefined;
    });
    expect(health).toContain('SERVING');
    const ui = await publishedPort('temporal', 8233);
    const page = await fetch(`http://127.0.0.1:${ui}/`, { signal: AbortSignal.timeout(20_000) });
    expect(page.status).toBe(200);
    timed('temporal answering', t);
  });

  it('the worker has no Docker socket: only the proxy has the engine, and the proxy has no network', async () => {
    const worker = await serviceContainer('mail-runbooks');
    expect(worker.State.Running).toBe(true);
    expect(worker.Config.User).toBe('mrb:mrb');
    const mounts = worker.Mounts.map((m) => m.Destination).sort();
    expect(mounts).toEqual(['/etc/mail-runbooks', '/run/docker-proxy']);
    const noEngine = await composeExec('mail-runbooks', [
      'sh',
      '-c',
      'ls -l /var/run/docker.sock /run/docker.sock',
    ]);
    expect(noEngine.code).not.toBe(0);

    const proxy = await serviceContainer('docker-proxy');
    expect(proxy.HostConfig.NetworkMode).toBe('none');
    expect(proxy.Mounts.map((m) => m.Destination).sort()).toEqual([
      '/run/docker-proxy',
      '/var/run/docker.sock',
    ]);
    expect(proxy.Config.User).toBe('mrb:mrb');
  });

  it('the proxy, asked from the worker container: the mail server yes, a container list or another exec no', async () => {
    const temporal = await serviceContainer('temporal');
    expect(await askFromWorker('GET', `/containers/${MAILSERVER}/json`)).toBe('200');
    expect(await askFromWorker('GET', '/containers/json')).toBe('403');
    expect(await askFromWorker('GET', '/images/json')).toBe('403');
    expect(await askFromWorker('POST', `/containers/${temporal.Name.replace(/^\//, '')}/exec`)).toBe('403');
    expect(await askFromWorker('POST', `/containers/${MAILSERVER}/stop`)).toBe('403');
    expect((await dexec(docker, MAILSERVER, ['true'])).exitCode).toBe(0); // still running
    const proxyLog = await compose(['logs', '--no-color', 'docker-proxy']);
    expect(proxyLog).toContain(`exec in container ${MAILSERVER} only`);
    expect(proxyLog).toContain('docker-proxy: 403 GET /containers/json');
  });

  it('the receiver answers on its published port and wants its token', async () => {
    const port = await publishedPort('mail-runbooks', 9095);
    const health = await pollUntil(120_000, 'the receiver /healthz', async () => {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(10_000) });
      return r.status === 200 ? r.status : undefined;
    });
    expect(health).toBe(200);
    const anonymous = await fetch(`http://127.0.0.1:${port}/alerts`, {
      method: 'POST',
      body: '{"alerts":[]}',
      headers: { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(10_000),
    });
    expect(anonymous.status).toBe(401);
  });

  it('statusCheck, started with docker-compose exec, runs its commands in the mail server through the proxy', async () => {
    const check = await composeExec('mail-runbooks', ['mail-runbooks', 'config', 'check']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain(`dms container ${MAILSERVER} via docker socket ${PROXY_SOCKET}`);

    const refusedBefore = await refusedByProxy();
    const t = Date.now();
    const started = await composeExec('mail-runbooks', [
      'mail-runbooks',
      'start',
      'statusCheck',
      '-t',
      'mx1',
      '--json',
    ]);
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
    const watched = await composeExec(
      'mail-runbooks',
      ['mail-runbooks', 'watch', workflowId, '--timeout', '300'],
      330_000,
    );
    expect(watched.code, watched.stdout + watched.stderr).toBe(0);
    timed('statusCheck, start to report', t);
    const shown = await composeExec('mail-runbooks', ['mail-runbooks', 'show', workflowId, '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    const view = JSON.parse(shown.stdout) as RunView;
    const report = view.report!;
    const steps = Object.fromEntries(report.steps.map((s) => [s.name, s]));
    const stepsText = report.steps.map((s) => `${s.name}: ${s.verdict} ${s.summary}`).join('\n');
    const inWorkflow = (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000;
    timings.push(`statusCheck, the workflow's own start to finish: ${inWorkflow.toFixed(1)} s`);
    log(`statusCheck report (${inWorkflow.toFixed(1)} s in the workflow):\n${stepsText}`);
    expect(report.verdict, stepsText).toBe('healthy');
    for (const name of [
      'mail-server-state',
      'supervisor-programs',
      'queue-summary',
      'mail-log-tail',
      'provider-relay-smtp',
    ])
      expect(steps[name]?.verdict, stepsText).toBe('ok');
    // Evidence only the mail server's container could give: its supervisord programs, its Postfix's banner.
    const programs = (
      steps['supervisor-programs']!.evidence as { programs: { name: string; state: string }[] }
    ).programs;
    for (const name of ['postfix', 'dovecot', 'mailserver'])
      expect(programs).toContainEqual(expect.objectContaining({ name, state: 'RUNNING' }));
    expect(steps['mail-server-state']!.summary).toContain(
      `container ${MAILSERVER} @ unix socket ${PROXY_SOCKET} is running`,
    );
    expect(steps['provider-relay-smtp']!.summary).toContain(MAIL_HOSTNAME);
    // The proxy refused none of the run's calls.
    expect(await refusedByProxy()).toEqual(refusedBefore);
  });

  it('with the proxy stopped, the worker has no way to the engine', async () => {
    await compose(['stop', '-t', '10', 'docker-proxy']);
    expect(await askFromWorker('GET', `/containers/${MAILSERVER}/json`)).toMatch(/^error /);
  });
});
