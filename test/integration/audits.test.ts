/**
 * The read-only audits on the lab: openRelayAudit and relayRoutingCheck. A healthy lab -> both `healthy`;
 * the `open-relay` fault -> openRelayAudit `needs-human` naming mynetworks (and the live probe from the
 * worker's side relays); the `relaymap-ineffective` fault -> relayRoutingCheck `needs-human` naming the
 * unused relay map. Neither runbook changes anything, so no approval is ever requested.
 *
 * The lab's generated target.yaml has no audit settings, so the suite writes a copy that adds
 * audit.smtpPort (the lab's published port 25) and mailServer.relayMapFiles. Only the faults this file
 * injected are healed afterwards: the lab may be shared with other suites.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { findFault, healFault, injectFault } from '../../src/lab/faults.js';
import { MATERIAL_FILES } from '../../src/lab/material.js';
import type { RunbookReport } from '../../src/shared/types.js';
import { ensureLab, type Lab } from '../helpers/lab.js';
import { report, runbookHarness, stepsOf, type RunbookHarness } from '../helpers/runbooks.js';

const RELAY_MAP = '/etc/postfix/relayhost_map';

let lab: Lab;
let h: RunbookHarness;
let auditConfig: string;
let plainConfig: string;
const injected = new Set<string>();

beforeAll(async () => {
  lab = await ensureLab();
  const config = parse(await readFile(lab.up.config, 'utf8')) as {
    targets: Array<{ audit?: unknown; mailServer: { relayMapFiles?: string[] } }>;
  };
  const target = config.targets[0]!;
  target.audit = { smtpPort: lab.ports.smtp };
  target.mailServer.relayMapFiles = [RELAY_MAP];
  // Next to the generated config: its secret references are relative to that folder.
  auditConfig = join(lab.ctx.paths.dir, `audits-${randomUUID()}.yaml`);
  await writeFile(auditConfig, stringify(config), { mode: 0o600 });
  // And one without the audit settings, for the "skipped, and says so" paths.
  delete target.audit;
  delete target.mailServer.relayMapFiles;
  plainConfig = join(lab.ctx.paths.dir, `audits-plain-${randomUUID()}.yaml`);
  await writeFile(plainConfig, stringify(config), { mode: 0o600 });
  h = await runbookHarness(auditConfig);
});

afterAll(async () => {
  for (const name of injected) await healFault(lab.ctx, findFault(name)).catch(() => undefined);
  await h?.teardown('audits');
  for (const file of [auditConfig, plainConfig]) if (file) await rm(file, { force: true });
});

async function withFault<T>(name: string, body: () => Promise<T>): Promise<T> {
  injected.add(name);
  await injectFault(lab.ctx, findFault(name));
  try {
    return await body();
  } finally {
    await healFault(lab.ctx, findFault(name));
    injected.delete(name);
  }
}

const step = (r: RunbookReport, name: string) => r.steps.find((s) => s.name === name);

describe('read-only audits on the lab', () => {
  it('a healthy lab: openRelayAudit and relayRoutingCheck say healthy', async () => {
    const audit = await report(await h.start('openRelayAudit'));
    expect(audit.verdict, stepsOf(audit)).toBe('healthy');
    expect(audit.steps.map((s) => s.name)).toEqual([
      'load-target-plan',
      'trusted-networks',
      'relay-restrictions',
      'submission-auth',
      'container-networking',
      'relay-probe',
    ]);
    expect(audit.decisions).toEqual([]);
    // 127.0.0.0/8 on the lab image; empty on docker-mailserver (PERMIT_DOCKER=none)
    expect(step(audit, 'trusted-networks')?.summary).toMatch(
      lab.up.settings.dmsImage === undefined ? /trusts only 127\.0\.0\.0\/8/ : /mynetworks is empty/,
    );
    expect(step(audit, 'submission-auth')?.summary).toMatch(
      /submission \(587\), submissions \(465\): AUTH enabled and required/,
    );
    // The live probe ran from this (the worker's) side, to the lab's published port 25.
    expect(step(audit, 'relay-probe')?.summary).toMatch(
      new RegExp(
        `127\\.0\\.0\\.1:${lab.ports.smtp} refuses unauthenticated relaying \\([45]54 [45]\\.7\\.1 `,
      ),
    );

    const routing = await report(await h.start('relayRoutingCheck', { target: 'lab' }));
    expect(routing.verdict, stepsOf(routing)).toBe('healthy');
    expect(routing.steps.map((s) => s.name)).toEqual([
      'load-target-plan',
      'relay-route',
      'relay-maps-in-effect',
      'relay-credentials',
    ]);
    expect(step(routing, 'relay-route')?.summary).toMatch(
      /mail from lab\.test to dest\.test goes through \[relay\.lab\.test\]:2526 \(from texthash:\/etc\/postfix\/relayhost_map @lab\.test\)/,
    );
    expect(step(routing, 'relay-maps-in-effect')?.summary).toMatch(/relayhost_map in effect/);
    expect(step(routing, 'relay-credentials')?.summary).toMatch(/SASL credentials for .* found under/);
    // Only "found" is kept from the SASL password map, never the password.
    const password = (
      await readFile(join(lab.ctx.paths.dir, MATERIAL_FILES.relaySaslPassword), 'utf8')
    ).trim();
    expect(password.length).toBeGreaterThan(0);
    expect(JSON.stringify(routing)).not.toContain(password);

    // Without the audit settings the live probe and the unused-map check are skipped, and say so.
    process.env.MRB_CONFIG = plainConfig;
    try {
      const plain = await report(await h.start('openRelayAudit'));
      expect(plain.verdict, stepsOf(plain)).toBe('healthy');
      expect(step(plain, 'relay-probe')?.summary).toMatch(
        /live probe not run: the config has no audit\.smtpPort/,
      );
      const plainRouting = await report(await h.start('relayRoutingCheck'));
      expect(plainRouting.verdict, stepsOf(plainRouting)).toBe('healthy');
      expect(step(plainRouting, 'relay-maps-in-effect')?.summary).toMatch(/no mailServer\.relayMapFiles/);
    } finally {
      process.env.MRB_CONFIG = auditConfig;
    }
  });

  it('open-relay fault: openRelayAudit needs a human and names mynetworks', async () => {
    await withFault('open-relay', async () => {
      const r = await report(await h.start('openRelayAudit'));
      expect(r.verdict, stepsOf(r)).toBe('needs-human');
      expect(r.cause).toMatch(
        /mynetworks trusts too much: main\.cf mynetworks: \d+\.\d+\.0\.0\/1[26] trusts a whole private range/,
      );
      expect(step(r, 'trusted-networks')?.verdict).toBe('problem');
      // docker-mailserver rewrites mynetworks at each start: the fix is its setting
      if (lab.up.settings.dmsImage !== undefined) expect(r.cause).toMatch(/set PERMIT_DOCKER=none/);
      expect(step(r, 'relay-restrictions')?.verdict).toBe('ok');
      // The worker reaches port 25 through Docker's gateway, which the wide range now trusts.
      expect(step(r, 'relay-probe')?.summary, stepsOf(r)).toMatch(
        /^OPEN RELAY: .* accepted RCPT TO:<canary@dest\.test>/,
      );
      expect(r.decisions).toEqual([]);
    });
  });

  it('relaymap-ineffective fault: relayRoutingCheck needs a human and names the unused map', async () => {
    await withFault('relaymap-ineffective', async () => {
      const r = await report(await h.start('relayRoutingCheck'));
      expect(r.verdict, stepsOf(r)).toBe('needs-human');
      expect(r.cause).toContain(`relay map present but not in effect: ${RELAY_MAP} exists`);
      expect(step(r, 'relay-route')?.summary).toMatch(
        /mail from lab\.test to dest\.test goes directly to the MX of dest\.test, not through relay\.lab\.test/,
      );
      expect(step(r, 'relay-maps-in-effect')?.verdict).toBe('problem');
      // No relay in the route: nothing to log in to.
      expect(step(r, 'relay-credentials')).toBeUndefined();
    });
  });
  it('relay-excluded fault (docker-mailserver only): relayRoutingCheck needs a human, lab.test mail no longer goes through the relay', async (ctx) => {
    if (lab.up.settings.dmsImage === undefined) ctx.skip();
    await withFault('relay-excluded', async () => {
      const r = await report(await h.start('relayRoutingCheck'));
      expect(r.verdict, stepsOf(r)).toBe('needs-human');
      expect(step(r, 'relay-route')?.summary).toMatch(
        /mail from lab\.test to dest\.test goes directly to the MX of dest\.test, not through relay\.lab\.test/,
      );
      expect(r.decisions).toEqual([]);
    });
  });
});
