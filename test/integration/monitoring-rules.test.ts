/**
 * The example Prometheus rules in monitoring/ against the real promtool (Debian package prometheus): they
 * load, and their unit tests (monitoring/prometheus-rules.test.yml, synthetic postfix-exporter series)
 * pass, so the alerts the receiver routes to runbooks fire when they should.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const PROMTOOL = '/usr/bin/promtool';
const rules = fileURLToPath(new URL('../../monitoring/prometheus-rules.yml', import.meta.url));
const ruleTests = fileURLToPath(new URL('../../monitoring/prometheus-rules.test.yml', import.meta.url));
const scrapeConfig = fileURLToPath(new URL('../../monitoring/prometheus.yml', import.meta.url));

async function promtool(...args: string[]): Promise<string> {
  if (!existsSync(PROMTOOL))
    throw new Error(`${PROMTOOL} is missing: apt-get install prometheus (.ci/run installs it)`);
  const { stdout, stderr } = await promisify(execFile)(PROMTOOL, args, { timeout: 60_000 });
  return `${stdout}${stderr}`;
}

describe('monitoring/ rules with promtool', () => {
  it('load: promtool check rules', async () => {
    expect(await promtool('check', 'rules', rules)).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('fire as their tests expect: promtool test rules', async () => {
    expect(await promtool('test', 'rules', ruleTests)).toMatch(/SUCCESS/);
  });

  it('the example scrape config (postfix exporter, relay and content-filter probes) loads with the rules', async () => {
    expect(await promtool('check', 'config', scrapeConfig)).toMatch(/SUCCESS: \d+ rule files found/);
  });
});
