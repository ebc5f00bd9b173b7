/**
 * The shipped alerts reach the runbooks they are written for: every alert of monitoring/prometheus-rules.yml
 * labelled automation="mail-runbooks" names its runbook in the `runbook` annotation, and the receiver's
 * routes in each example config (the lab's generated one, docs/config.example.yaml,
 * docs/config.production.example.yaml) start exactly that runbook for it, for the target in its labels.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { routeAlert } from '../../src/alerts/routing.js';
import { SHIPPED_ALERT_RUNBOOKS } from '../../src/alerts/shipped-routes.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { validateConfig } from '../../src/config/validate.js';
import { DEFAULT_PORTS } from '../../src/lab/settings.js';
import { targetConfig } from '../../src/lab/target-config.js';
import { RUNBOOKS } from '../../src/shared/runbooks.js';
import { generateSshKeyPair } from '../../src/transports/ssh-keygen.js';
import { FP } from './config-fixture.js';

interface Rule {
  alert?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules = (
  parse(readFileSync('monitoring/prometheus-rules.yml', 'utf8')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);
const shipped = rules.filter((r) => r.alert && r.labels?.automation === 'mail-runbooks');

function labConfig(): Config {
  const key = generateSshKeyPair('ed25519', { comment: 'routes test' });
  const result = validateConfig(
    targetConfig({ ports: DEFAULT_PORTS }, { relayHostKeyFingerprint: FP.a }, key.public),
  );
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

const examples: [string, () => Promise<Config>][] = [
  ['the lab (src/lab/target-config.ts)', () => Promise.resolve(labConfig())],
  ['docs/config.example.yaml', () => loadConfig('docs/config.example.yaml')],
  ['docs/config.production.example.yaml', () => loadConfig('docs/config.production.example.yaml')],
];

describe('monitoring/prometheus-rules.yml', () => {
  it('ships the alerts the README promises, each naming a registered runbook', () => {
    const names = shipped.map((r) => r.alert);
    expect(names).toEqual(
      expect.arrayContaining(['SmtpRelayDown', 'SmtpRelayDeferring', 'PostfixInboundDeferred']),
    );
    for (const rule of shipped) {
      expect(Object.keys(RUNBOOKS), `${rule.alert}'s runbook annotation`).toContain(
        rule.annotations?.runbook,
      );
    }
    const byAlert = Object.fromEntries(
      shipped.map((r): [string, unknown] => [r.alert!, r.annotations?.runbook]),
    );
    expect(byAlert).toMatchObject({
      SmtpRelayDown: 'relayUnresponsive',
      SmtpRelayDeferring: 'relayUnresponsive',
      PostfixInboundDeferred: 'inboundDeferred',
    });
  });

  it('is what the code writes routes from (src/alerts/shipped-routes.ts: the lab, init)', () => {
    expect(SHIPPED_ALERT_RUNBOOKS).toEqual(
      shipped.map((r) => ({ alertname: r.alert, runbook: r.annotations?.runbook })),
    );
  });
});

describe.each(examples)('the routes of %s', (_name, load) => {
  it('start the runbook each shipped alert names, for the target in its labels', async () => {
    const config = await load();
    const alerts = config.alerts;
    if (!alerts) throw new Error('no alerts section');
    const target = config.targets[config.targets.length - 1]!.name;
    const routing = {
      routes: alerts.routes,
      defaultTarget: config.defaultTarget,
      targets: new Set(config.targets.map((t) => t.name)),
    };
    const decisions = Object.fromEntries(
      shipped.map((rule): [string, unknown] => {
        const alert = {
          status: 'firing' as const,
          labels: { alertname: rule.alert!, target, ...rule.labels },
          annotations: rule.annotations ?? {},
          startsAt: new Date(0).toISOString(),
        };
        return [rule.alert!, routeAlert(alert, routing)];
      }),
    );
    const expected = Object.fromEntries(
      shipped.map((r): [string, unknown] => [
        r.alert!,
        { kind: 'run', runbook: r.annotations!.runbook, target },
      ]),
    );
    expect(decisions).toEqual(expected);
  });
});
