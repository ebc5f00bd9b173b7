/**
 * The compose file's wiring against the lab (docs/deploy.md, section 3): the worker reaches the lab's mail
 * server only through the Docker socket proxy (`mail-runbooks-docker-proxy`, allowing exec in that one
 * container). statusCheck and endToEndVerification still say healthy, and the proxy refused nothing they
 * needed. Needs the lab: run under the lab lock
 * (flock /tmp/mrb-lab.lock npx vitest run --project integration test/integration/docker-proxy-lab.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startDockerProxy } from '../../src/deploy/docker-proxy.js';
import { ensureLab, type Lab } from '../helpers/lab.js';
import { report, runbookHarness, stepsOf, type RunbookHarness } from '../helpers/runbooks.js';

interface LabTarget {
  mailServer: { docker: { engine: Record<string, unknown>; container: string } };
}

let lab: Lab;
let h: RunbookHarness | undefined;
let proxy: { close(): Promise<void> } | undefined;
let socketDir = '';
let configPath = '';
const proxyLog: string[] = [];

beforeAll(async () => {
  lab = await ensureLab();
  const config = parse(await readFile(lab.up.config, 'utf8')) as { targets: LabTarget[] };
  const target = config.targets[0]!;
  socketDir = await mkdtemp(join(tmpdir(), 'mrb-proxy-lab-'));
  const socket = join(socketDir, 'docker.sock');
  proxy = await startDockerProxy({
    container: target.mailServer.docker.container,
    listen: socket,
    engine: '/var/run/docker.sock',
    log: (line) => proxyLog.push(line),
  });
  target.mailServer.docker.engine = { type: 'socket', socketPath: socket };
  // Next to the generated config: its secret references are relative to that folder.
  configPath = join(lab.ctx.paths.dir, `proxy-${randomUUID()}.yaml`);
  await writeFile(configPath, stringify(config), { mode: 0o600 });
  h = await runbookHarness(configPath);
});

afterAll(async () => {
  await h?.teardown('docker-proxy-lab');
  await proxy?.close();
  if (configPath) await rm(configPath, { force: true });
  if (socketDir) await rm(socketDir, { recursive: true, force: true });
});

describe('the lab through the Docker socket proxy', () => {
  it('statusCheck and endToEndVerification are healthy; the proxy refused nothing', async () => {
    const status = await report(await h!.start('statusCheck'));
    expect(status.verdict, stepsOf(status)).toBe('healthy');
    expect(status.steps.find((s) => s.name === 'mail-server-state')?.verdict).toBe('ok');
    expect(status.steps.find((s) => s.name === 'queue-summary')?.verdict).toBe('ok');
    const e2e = await report(await h!.start('endToEndVerification', { target: 'lab' }));
    expect(e2e.verdict, stepsOf(e2e)).toBe('healthy');
    expect(proxyLog.filter((l) => l.startsWith('docker-proxy: 403'))).toEqual([]);
  });
});
