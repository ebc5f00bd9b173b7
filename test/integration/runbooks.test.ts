/**
 * The runbooks on the lab, one test per fault: inject -> start the right runbook -> its evidence names the
 * cause -> approve by Signal -> the fix is applied -> end-to-end verification passes -> verdict `fixed`.
 * And the reject path (nothing changed, `needs-human`) and a healthy lab (`healthy`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { FAULTS, findFault, healFault, injectFault } from '../../src/lab/faults.js';
import { ensureLab, healAndFlush, inLab, type Lab } from '../helpers/lab.js';
import {
  approve,
  reject,
  report,
  runbookHarness,
  stepsOf,
  type RunbookHarness,
} from '../helpers/runbooks.js';

let lab: Lab;
let h: RunbookHarness;

beforeAll(async () => {
  lab = await ensureLab();
  // Start from a healthy lab whatever earlier suites left behind.
  for (const fault of FAULTS) await healFault(lab.ctx, fault);
  h = await runbookHarness(lab.up.config);
});

afterAll(async () => {
  for (const name of [
    'relay-down',
    'relay-hung',
    'relay-auth',
    'amavis-down',
    'amavis-hung',
    'ssh-key-perms',
    'queue-flood',
  ])
    await healAndFlush(lab, name).catch(() => undefined);
  await h?.teardown('runbooks');
});

const inject = (name: string, args: string[] = []) => injectFault(lab.ctx, findFault(name), args);

describe('runbooks on the lab', () => {
  it('a healthy lab: status check and end-to-end verification say healthy', async () => {
    const status = await report(await h.start('statusCheck'));
    expect(status.verdict, stepsOf(status)).toBe('healthy');
    expect(status.steps.map((s) => s.name)).toEqual([
      'load-target-plan',
      'mail-server-state',
      'supervisor-programs',
      'queue-summary',
      'mail-log-tail',
      'relay-port-listening',
      'relay-logs',
    ]);
    const e2e = await report(await h.start('endToEndVerification', { target: 'lab' }));
    expect(e2e.verdict, stepsOf(e2e)).toBe('healthy');
    const delivered = e2e.steps.find((s) => s.name === 'canary-delivered');
    expect(delivered?.summary).toMatch(/sent through relay\.lab\.test .* in canary@dest\.test's INBOX/);
  });

  it('end-to-end verification over 465 (implicit TLS) too, with the latency of each leg', async () => {
    const config = parse(await readFile(lab.up.config, 'utf8')) as {
      targets: Array<{ canary: { submission: { port: number; tls: string } } }>;
    };
    const submission = config.targets[0]!.canary.submission;
    Object.assign(submission, { port: lab.ports.submissions, tls: 'implicit' });
    const path = join(lab.ctx.paths.dir, 'implicit-tls.yaml');
    await writeFile(path, stringify(config), { mode: 0o600 });
    process.env.MRB_CONFIG = path; // the in-process worker reads the config file on each activity
    try {
      const r = await report(await h.start('endToEndVerification'));
      expect(r.verdict, stepsOf(r)).toBe('healthy');
      const accepted = r.steps.find((s) => s.name === 'canary-accepted');
      expect(accepted?.summary).toMatch(
        new RegExp(`127\\.0\\.0\\.1:${lab.ports.submissions} \\(implicit\\) as \\w+ in \\d+ ms`),
      );
      const delivered = r.steps.find((s) => s.name === 'canary-delivered')?.evidence as {
        relayLegMs: number;
        imap: { arrived: boolean; arrivalLegMs: number };
      };
      expect(delivered.relayLegMs).toBeGreaterThanOrEqual(0);
      expect(delivered.imap).toMatchObject({ arrived: true });
    } finally {
      process.env.MRB_CONFIG = lab.up.config;
    }
  });

  it('relay-down: relayUnresponsive finds the port closed, restarts the watchdog, flushes, verifies: fixed', async () => {
    await inject('relay-down');
    const handle = await h.start('relayUnresponsive');
    const pending = await approve(handle, 'restart-relay-watchdog');
    expect(pending.pending?.reason).toMatch(/relay program smtp-relay is STOPPED/);
    expect(pending.pending?.reason).toMatch(/relay port 2526 is not listening/);
    await approve(handle, 'flush-queue');
    const r = await report(handle);
    expect(r.verdict, stepsOf(r)).toBe('fixed');
    expect(r.decisions.map((d) => `${d.step}:${d.by}:${d.via}`)).toEqual([
      'restart-relay-watchdog:integration-test:signal',
      'flush-queue:integration-test:signal',
    ]);
  });

  it('relay-down, rejected: nothing is changed and the verdict is needs-human', async () => {
    await inject('relay-down');
    try {
      const handle = await h.start('relayUnresponsive');
      await reject(handle, 'restart-relay-watchdog');
      const r = await report(handle);
      expect(r.verdict, stepsOf(r)).toBe('needs-human');
      expect(r.cause).toMatch(/restart-relay-watchdog was not approved .*nothing was changed/);
      const state = await inLab(lab, 'relay', ['supervisorctl', 'status', 'smtp-relay'], { allowFail: true });
      expect(state.stdout).toMatch(/STOPPED/);
    } finally {
      await healFault(lab.ctx, findFault('relay-down'));
    }
  });

  it('relay-hung: the port listens but SMTP never answers; restart fixes it', async () => {
    await inject('relay-hung');
    const handle = await h.start('relayUnresponsive');
    const pending = await approve(handle, 'restart-relay-watchdog');
    expect(pending.pending?.reason).toMatch(/does not answer SMTP/);
    await approve(handle, 'flush-queue');
    const r = await report(handle);
    expect(r.verdict, stepsOf(r)).toBe('fixed');
  });

  it('amavis-down: inboundDeferred restarts amavis, requeues, verifies: fixed', async () => {
    await inject('amavis-down');
    const handle = await h.start('inboundDeferred');
    const pending = await approve(handle, 'restart-amavis');
    expect(pending.pending?.reason).toMatch(/amavis \(10024\)/);
    await approve(handle, 'requeue-deferred');
    const r = await report(handle);
    expect(r.verdict, stepsOf(r)).toBe('fixed');
  });

  it('amavis-hung: amavis listens and is RUNNING but never greets; inboundDeferred finds it hung, restarts it: fixed', async () => {
    await inject('amavis-hung');
    try {
      const handle = await h.start('inboundDeferred');
      const pending = await approve(handle, 'restart-amavis');
      expect(pending.pending?.reason).toMatch(/amavis listens on 10024 but does not answer SMTP \(hung\)/);
      await approve(handle, 'requeue-deferred');
      const r = await report(handle);
      expect(r.verdict, stepsOf(r)).toBe('fixed');
      expect(r.steps.map((s) => s.name)).toContain('amavis-answers');
    } finally {
      await healAndFlush(lab, 'amavis-hung');
    }
  });

  it('ssh-key-perms: queueBacklog finds the 0644 key, fixes it after approval: fixed', async () => {
    await inject('ssh-key-perms');
    const handle = await h.start('queueBacklog');
    const pending = await approve(handle, 'fix-relay-key-permissions');
    expect(pending.pending?.reason).toMatch(/mode 0644 lets group or others access it/);
    const r = await report(handle);
    expect(r.verdict, stepsOf(r)).toBe('fixed');
    const mode = await inLab(lab, 'mailserver', ['stat', '-c', '%a', '/home/cloudrelay/.ssh/id_rsa']);
    expect(mode.stdout.trim()).toBe('600');
  });

  it('relay-auth: a rotated relay password; rejected, nothing changes; approved, the mail server gets the stored one: fixed', async () => {
    await inject('relay-auth');
    try {
      const first = await h.start('queueBacklog');
      const pending = await reject(first, 'sync-relay-credentials');
      expect(pending.pending?.reason).toMatch(
        /another password for lab-mailserver than relay\.sasl\.password holds/,
      );
      const rejected = await report(first);
      expect(rejected.verdict, stepsOf(rejected)).toBe('needs-human');

      // Nothing was written: the next run finds the same stale entries and asks again.
      const second = await h.start('queueBacklog');
      await approve(second, 'sync-relay-credentials');
      const r = await report(second);
      expect(r.verdict, stepsOf(r)).toBe('fixed');
      expect(r.cause).toMatch(/relay credentials re-synced from the secret store/);
      const synced = r.steps.find((s) => s.name === 'sync-relay-credentials');
      expect(synced?.summary).toMatch(
        /wrote the configured password for lab-mailserver into \/etc\/postfix\/sasl_passwd .*reloaded Postfix/,
      );
      if (lab.up.settings.dmsImage !== undefined) {
        // DMS's change detector reloads Postfix again after the source changes: the step waits for that pass,
        // so the flush after it is not undone.
        expect(synced?.summary).toMatch(
          /the change detector applied \/tmp\/docker-mailserver\/postfix-sasl-password\.cf/,
        );
      }
      expect(r.steps.some((s) => s.name === 'canary-delivered' && s.verdict === 'ok')).toBe(true);
    } finally {
      await healAndFlush(lab, 'relay-auth');
    }
  });

  it('queue-flood: queueBacklog flushes after approval and waits for the drain: fixed', async () => {
    await inject('queue-flood', ['2000']);
    const handle = await h.start('queueBacklog');
    const pending = await approve(handle, 'flush-queue');
    expect(pending.pending?.reason).toMatch(/2000 queued|20\d\d queued/);
    const r = await report(handle);
    expect(r.verdict, stepsOf(r)).toBe('fixed');
  });

  it('startStop: stops and starts the relay, then the mail server, each after approval; mail flows after', async () => {
    for (const component of ['relay', 'mail-server'] as const) {
      const stop = await h.start('startStop', { params: { component, action: 'stop' } });
      await approve(stop, `stop-${component}`);
      const stopped = await report(stop);
      expect(stopped.verdict, stepsOf(stopped)).toBe('fixed');
      const start = await h.start('startStop', { params: { component, action: 'start' } });
      await approve(start, `start-${component}`);
      const started = await report(start);
      expect(started.verdict, stepsOf(started)).toBe('fixed');
      expect(started.steps.some((s) => s.name === 'canary-delivered' && s.verdict === 'ok')).toBe(true);
    }
  });

  it('startStop with bad params fails at once with a message naming the field', async () => {
    const handle = await h.start('startStop', { params: { component: 'database', action: 'stop' } });
    const failure = await handle.result().then(
      () => undefined,
      (e: unknown) => e as Error & { cause?: Error },
    );
    expect(failure, 'the run must fail').toBeDefined();
    expect(String(failure?.cause?.message ?? failure)).toMatch(
      /params\.component must be one of mail-server, relay/,
    );
  });
});
