/**
 * A relay we cannot log in to, on the lab: the lab's config with the relay's SSH (and service and logs) left
 * out, flavour provider. relayUnresponsive checks the relay over SMTP only, from the mail server: with the
 * relay down (the relay-down fault) it skips what needs the relay's SSH, says so, restarts nothing and hands
 * over with the provider's status (the SMTP probe) and the deferral lines from our own mail log; with the
 * relay up it sees the banner, STARTTLS and AUTH and, mail flowing, ends healthy. No SSH connection to the
 * relay is attempted: no relay transport is built, and the relay's sshd logs no connection.
 *
 * The login check is left out here (no relay.sasl): it runs from the worker, which reaches the relay only at
 * its lab network address, not as relay.lab.test. provider-relay-login.test.ts checks it against the real
 * relay (right and wrong password) and against implicit TLS.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { wrapHostTransportsForTests, type HostRole } from '../../src/activities/context.js';
import { findFault, healFault, injectFault } from '../../src/lab/faults.js';
import { NAMES } from '../../src/lab/settings.js';
import {
  ensureLab,
  healAndFlush,
  inLab,
  reinjectedId,
  submit,
  token,
  waitForLog,
  waitForMail,
  type Lab,
} from '../helpers/lab.js';
import { report, runbookHarness, stepsOf, type RunbookHarness } from '../helpers/runbooks.js';

const SAID = 'the relay is a provider relay: no SSH in config';
const SSHD_LOG = '/var/log/supervisor/sshd.log';
const RELAY = NAMES.relayHost.replace(/\./g, '\\.');

let lab: Lab;
let h: RunbookHarness;
let configPath: string;
/** The role of every host transport the activities built (the seam the chaos harness uses too). */
const built: HostRole[] = [];

/** Lines the relay's sshd has logged so far (it logs every connection, accepted or not). */
async function sshdLines(): Promise<string[]> {
  return (await inLab(lab, 'relay', ['cat', SSHD_LOG])).stdout.split('\n').filter(Boolean);
}

beforeAll(async () => {
  lab = await ensureLab();
  await healFault(lab.ctx, findFault('relay-down'));
  const config = parse(await readFile(lab.up.config, 'utf8')) as {
    targets: Array<{ relay: Record<string, unknown> }>;
  };
  const relay = config.targets[0]!.relay;
  expect(relay.ssh).toBeDefined(); // the lab's own config does administer its relay
  config.targets[0]!.relay = { flavour: 'provider', port: relay.port };
  // Secret references are relative to the config's folder: the copy sits beside the lab's.
  configPath = join(lab.ctx.paths.dir, `provider-relay-${randomUUID()}.yaml`);
  await writeFile(configPath, stringify(config), { mode: 0o600 });
  wrapHostTransportsForTests((transport, role) => {
    built.push(role);
    return transport;
  });
  h = await runbookHarness(configPath);
});

afterAll(async () => {
  wrapHostTransportsForTests((transport) => transport);
  await healAndFlush(lab, 'relay-down').catch(() => undefined);
  await h?.teardown('provider-relay');
  process.env.MRB_CONFIG = lab.up.config;
  if (configPath) await rm(configPath, { force: true });
});

describe('relayUnresponsive on a provider relay (no relay.ssh in the config)', () => {
  it('relay down: skips the SSH steps saying so, restarts nothing, hands over with the probe and our deferral lines', async () => {
    const sshdBefore = (await sshdLines()).length;
    await injectFault(lab.ctx, findFault('relay-down'), []);
    try {
      // A message deferred at the relay, so that our log has a deferral to hand over.
      const { queueId } = await submit(lab, { to: NAMES.destUser, token: token('provider') });
      const id = await reinjectedId(lab, queueId);
      await waitForLog(
        lab,
        new RegExp(`${id}: to=<${NAMES.destUser}>, relay=none, .*status=deferred`),
        60_000,
      );

      const r = await report(await h.start('relayUnresponsive'));
      expect(r.verdict, stepsOf(r)).toBe('needs-human');
      expect(r.steps.map((s) => `${s.name} ${s.verdict}`)).toEqual([
        'load-target-plan ok',
        'relay-watchdog-alive skipped',
        'relay-port-listening skipped',
        'relay-logs skipped',
        'provider-relay-smtp problem',
        'provider-relay-login ok',
        'outbound-deferrals problem',
        'restart-relay-watchdog skipped',
      ]);
      for (const step of r.steps.filter((s) => s.verdict === 'skipped'))
        expect(step.summary).toBe(`skipped: ${SAID}`);

      // The hand-over: what was not done and why, the provider's status, our deferral lines.
      expect(r.cause).toContain(`${SAID}, so its service was not checked or restarted`);
      expect(r.cause).toMatch(
        new RegExp(
          `SMTP probe from the mail server: provider relay \\[${RELAY}\\]:2526 does not answer SMTP: .*Connection refused`,
        ),
      );
      expect(r.cause).toContain('Login: no relay.sasl in the config');
      expect(r.cause).toMatch(
        new RegExp(
          `deferral lines: .*${id}: to=<${NAMES.destUser}>, relay=none, .*status=deferred \\(connect to ${RELAY}\\[[0-9.]+\\]:2526: Connection refused\\)`,
        ),
      );
      const probe = r.steps.find((s) => s.name === 'provider-relay-smtp')!;
      expect(probe.evidence).toMatchObject({ connected: false, starttlsOffered: false });
      const deferrals = r.steps.find((s) => s.name === 'outbound-deferrals')!;
      expect((deferrals.evidence as { deferredLines: string[] }).deferredLines.join('\n')).toContain(id);

      // Nothing asked, nothing restarted: the relay is still down.
      expect(r.decisions).toEqual([]);
      const state = await inLab(lab, 'relay', ['supervisorctl', 'status', 'smtp-relay'], { allowFail: true });
      expect(state.stdout).toMatch(/STOPPED/);
    } finally {
      await healAndFlush(lab, 'relay-down');
    }
    expect(built).not.toContain('relay');
    const sshdNew = (await sshdLines()).slice(sshdBefore);
    expect(sshdNew.filter((l) => /Accepted|Connection from|relayadmin/.test(l))).toEqual([]);
  });

  it('relay up: banner, STARTTLS and AUTH from the mail server; mail flows: healthy', async () => {
    // The message deferred above reaches its mailbox after the heal and flush: the last attempt was sent.
    const t = token('provider-up');
    const { queueId } = await submit(lab, { to: NAMES.destUser, token: t });
    await waitForMail(lab, 'dest', t, 60_000);
    const id = await reinjectedId(lab, queueId);
    await waitForLog(
      lab,
      new RegExp(`${id}: to=<${NAMES.destUser}>, relay=${RELAY}\\[.*status=sent`),
      30_000,
    );

    const r = await report(await h.start('relayUnresponsive'));
    expect(r.verdict, stepsOf(r)).toBe('healthy');
    const probe = r.steps.find((s) => s.name === 'provider-relay-smtp')!;
    expect(probe.summary).toMatch(
      new RegExp(
        `^provider relay \\[${RELAY}\\]:2526 greets "220 ${RELAY} ESMTP lab relay"; STARTTLS TLSv1\\.[23] \\(certificate \\w+ by the mail server's CA store\\); AUTH PLAIN LOGIN$`,
      ),
    );
    expect(built).not.toContain('relay');
  });
});
