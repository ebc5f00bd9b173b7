/**
 * smtpPathDiagnosis on the lab, from the worker's side like a mail client: the lab's own DNS (dnsmasq,
 * published on 127.0.0.1) and its published submission ports. A healthy lab passes every layer; each
 * broken layer, made by a config mistake or a lab fault, stops the run there with a verdict naming it.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { findFault, healFault, injectFault } from '../../src/lab/faults.js';
import type { RunbookReport } from '../../src/shared/types.js';
import { ensureLab, healAndFlush, type Lab } from '../helpers/lab.js';
import { report, runbookHarness, stepsOf, type RunbookHarness } from '../helpers/runbooks.js';

interface LabTarget {
  canary: { submission: Record<string, unknown> };
  diagnosis?: Record<string, unknown>;
  thresholds: Record<string, unknown>;
}

let lab: Lab;
let h: RunbookHarness;
const written: string[] = [];

beforeAll(async () => {
  lab = await ensureLab();
  await healAndFlush(lab, 'relay-down');
  h = await runbookHarness(lab.up.config);
});

afterAll(async () => {
  await healFault(lab.ctx, findFault('relay-down')).catch(() => undefined);
  await h?.teardown('smtp-path-diagnosis');
  for (const file of written) await rm(file, { force: true });
});

/** Runs the diagnosis with a copy of the lab config changed by `edit` (the worker reads MRB_CONFIG per activity). */
async function diagnose(edit?: (t: LabTarget) => void): Promise<RunbookReport> {
  if (!edit) {
    process.env.MRB_CONFIG = lab.up.config;
    return report(await h.start('smtpPathDiagnosis'));
  }
  const config = parse(await readFile(lab.up.config, 'utf8')) as { targets: LabTarget[] };
  edit(config.targets[0]!);
  // Next to the generated config: its secret references are relative to that folder.
  const path = join(lab.ctx.paths.dir, `diagnosis-${randomUUID()}.yaml`);
  written.push(path);
  await writeFile(path, stringify(config), { mode: 0o600 });
  process.env.MRB_CONFIG = path;
  try {
    return await report(await h.start('smtpPathDiagnosis'));
  } finally {
    process.env.MRB_CONFIG = lab.up.config;
  }
}

const names = (r: RunbookReport) => r.steps.map((s) => `${s.name}:${s.verdict}`);
const step = (r: RunbookReport, name: string) => r.steps.find((s) => s.name === name);

describe('smtpPathDiagnosis on the lab', () => {
  it('a healthy lab passes every layer, DNS to delivery', async () => {
    const r = await diagnose();
    expect(r.verdict, stepsOf(r)).toBe('healthy');
    expect(names(r)).toEqual([
      'load-target-plan:ok',
      'dns:ok',
      'tcp:ok',
      'tls:ok',
      'ehlo:ok',
      'auth:ok',
      'canary-accepted:ok',
      'canary-delivered:ok',
    ]);
    expect(step(r, 'dns')?.summary).toBe(
      'lab.test: MX mail.lab.test (PTR confirmed), SPF, DMARC and DKIM (mail) present',
    );
    expect(step(r, 'tls')?.summary).toMatch(/TLSv1\.[23] .*certificate for mail\.lab\.test .* verified/);
    expect(step(r, 'ehlo')?.summary).toMatch(/AUTH .*PLAIN/);
    const auth = step(r, 'auth')?.evidence as { transcript: string[] };
    expect(auth.transcript).toContain('> AUTH PLAIN <credentials>');
    expect(JSON.stringify(r)).not.toContain(lab.canaryPassword);
  });

  it('DNS: a domain without records stops at the DNS layer, naming each missing record', async () => {
    const r = await diagnose((t) => (t.diagnosis = { ...t.diagnosis, domain: 'nodns.test' }));
    expect(r.verdict, stepsOf(r)).toBe('needs-human');
    expect(names(r)).toEqual(['load-target-plan:ok', 'dns:problem']);
    expect(r.cause).toMatch(
      /^DNS layer: nodns\.test: no MX record.*no SPF record.*no DMARC record.*no DKIM key/,
    );
  });

  it('TCP: a closed port stops at the TCP layer', async () => {
    const r = await diagnose((t) => (t.canary.submission.port = 1));
    expect(names(r).at(-1)).toBe('tcp:problem');
    expect(r.cause).toMatch(/^TCP layer: 127\.0\.0\.1:1 \(starttls\): cannot connect .*ECONNREFUSED/);
  });

  it('TLS: implicit TLS on the STARTTLS port is named as such', async () => {
    const r = await diagnose((t) => (t.canary.submission.tls = 'implicit'));
    expect(names(r).at(-1)).toBe('tls:problem');
    expect(r.cause).toMatch(
      /^TLS layer: .*TLS handshake failed.*wants STARTTLS \(usually 587\), not implicit TLS/,
    );
  });

  it('TLS: STARTTLS on the implicit-TLS port: no greeting, try implicit TLS', async () => {
    const r = await diagnose((t) => (t.canary.submission.port = lab.ports.submissions));
    expect(names(r).at(-1)).toBe('tls:problem');
    expect(r.cause).toMatch(/no SMTP greeting.*may want implicit TLS \(usually 465\)/);
  });

  it('TLS: a certificate for another name is refused, never accepted', async () => {
    const r = await diagnose((t) => (t.canary.submission.servername = 'smtp.example.test'));
    expect(names(r).at(-1)).toBe('tls:problem');
    expect(r.cause).toMatch(/altnames.*not trusted for this name/);
  });

  it('AUTH: a wrong password stops at the AUTH layer with the 535 reply', async () => {
    const wrong = join(lab.ctx.paths.dir, `wrong-password-${randomUUID()}`);
    written.push(wrong);
    await writeFile(wrong, 'not-the-password\n', { mode: 0o600 });
    const r = await diagnose((t) => (t.canary.submission.password = { file: wrong }));
    expect(names(r).at(-1)).toBe('auth:problem');
    expect(r.cause).toMatch(/^AUTH layer: .*refused: 535 5\.7\.8 .*wrong user or password/);
  });

  it('delivery: with the relay down, submission works and the delivery layer is named', async () => {
    await injectFault(lab.ctx, findFault('relay-down'));
    try {
      const r = await diagnose((t) => (t.thresholds.deliveryTimeoutSeconds = 15));
      expect(r.verdict, stepsOf(r)).toBe('needs-human');
      expect(names(r).slice(-2)).toEqual(['canary-accepted:ok', 'canary-delivered:problem']);
      expect(r.cause).toMatch(/^delivery layer: /);
    } finally {
      await healAndFlush(lab, 'relay-down');
    }
  });
});
