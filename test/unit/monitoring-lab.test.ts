/**
 * The lab's monitoring configs (src/lab/monitoring.ts) are the shipped files of monitoring/ with only the
 * lab's addresses, the token file and the timings changed: the same alerts, expressions, labels and
 * annotations; the same jobs and relabelling; the same receivers and matchers.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  durationSeconds,
  labAlertmanagerConfig,
  labPrometheusConfig,
  labMonitoringSettings,
  labRules,
  monitoringBinaries,
  SHIPPED,
} from '../../src/lab/monitoring.js';
import { DEFAULT_PORTS } from '../../src/lab/settings.js';

const timings = { intervalSeconds: 2, forSeconds: 4, groupSeconds: 1 };
const read = (path: string): string => readFileSync(path, 'utf8');

interface Rule {
  alert: string;
  for?: string;
  [key: string]: unknown;
}
const rulesOf = (text: string): Rule[] =>
  (parse(text) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

describe('lab monitoring configs', () => {
  it('reads Prometheus durations', () => {
    expect(durationSeconds('15m')).toBe(900);
    expect(durationSeconds('1h30m')).toBe(5400);
    expect(durationSeconds('30s')).toBe(30);
    expect(() => durationSeconds('5 minutes')).toThrow(/not a Prometheus duration/);
  });

  it('the lab rules are the shipped rules with only `for:` shortened', () => {
    const shipped = rulesOf(read(SHIPPED.rules));
    const lab = rulesOf(labRules(read(SHIPPED.rules), timings.forSeconds));
    expect(lab.map((r) => r.alert)).toEqual(shipped.map((r) => r.alert));
    for (const [i, rule] of lab.entries()) {
      const { for: labFor, ...rest } = rule;
      const { for: shippedFor, ...shippedRest } = shipped[i]!;
      expect(rest).toEqual(shippedRest);
      expect(shippedFor).toBeDefined();
      expect(labFor).toBe('4s');
    }
    // A shipped `for:` already shorter than the lab's stays as it is.
    expect(rulesOf(labRules(read(SHIPPED.rules), 3600)).map((r) => r.for)).toEqual(shipped.map((r) => r.for));
  });

  it("Prometheus scrapes the lab's published exporter and probes, keeping the shipped jobs", () => {
    const shipped = parse(read(SHIPPED.prometheus)) as { scrape_configs: { job_name: string }[] };
    const config = parse(
      labPrometheusConfig(read(SHIPPED.prometheus), {
        target: 'lab',
        ports: { postfixExporter: 19154, smtpProbes: 19115 },
        rulesFile: '/tmp/x/lab-rules.yml',
        alertmanager: '127.0.0.1:19093',
        timings,
      }),
    ) as {
      global: Record<string, string>;
      rule_files: string[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      scrape_configs: {
        job_name: string;
        params?: unknown;
        static_configs: { targets: string[]; labels: Record<string, string> }[];
        relabel_configs?: { target_label?: string; replacement?: string }[];
      }[];
    };
    expect(config.global).toMatchObject({ scrape_interval: '2s', evaluation_interval: '2s' });
    expect(config.rule_files).toEqual(['/tmp/x/lab-rules.yml']);
    expect(config.alerting.alertmanagers[0]!.static_configs[0]!.targets).toEqual(['127.0.0.1:19093']);
    expect(config.scrape_configs.map((j) => j.job_name)).toEqual(
      shipped.scrape_configs.map((j) => j.job_name),
    );
    const job = (name: string) => config.scrape_configs.find((j) => j.job_name === name)!;
    expect(job('postfix').static_configs).toEqual([
      { targets: ['127.0.0.1:19154'], labels: { target: 'lab' } },
    ]);
    expect(job('relay-smtp').static_configs).toEqual([
      { targets: ['relay.lab.test:2526'], labels: { target: 'lab' } },
    ]);
    expect(job('content-filter').static_configs[0]!.targets).toEqual(['127.0.0.1:10024']);
    for (const probe of ['relay-smtp', 'content-filter']) {
      expect(job(probe).params).toEqual({ module: ['smtp_banner'] });
      expect(job(probe).relabel_configs?.find((r) => r.target_label === '__address__')?.replacement).toBe(
        '127.0.0.1:19115',
      );
    }
  });

  it('Alertmanager sends to the receiver with the token file, the shipped matchers kept', () => {
    const shipped = parse(read(SHIPPED.alertmanager)) as Record<string, unknown>;
    const config = parse(
      labAlertmanagerConfig(read(SHIPPED.alertmanager), {
        receiverUrl: 'http://127.0.0.1:9095/',
        tokenFile: '/work/.lab/secrets/receiver_token',
        timings,
      }),
    ) as {
      route: { routes: Record<string, unknown>[] };
      receivers: { name: string; webhook_configs?: Record<string, unknown>[] }[];
    };
    const route = config.route.routes[0]!;
    expect(route).toMatchObject({
      receiver: 'mail-runbooks',
      matchers: ['automation = "mail-runbooks"'],
      group_wait: '1s',
      group_interval: '1s',
      repeat_interval: '1h',
    });
    expect(config.receivers.find((r) => r.name === 'mail-runbooks')?.webhook_configs?.[0]).toMatchObject({
      url: 'http://127.0.0.1:9095/alerts',
      send_resolved: true,
      http_config: {
        authorization: { type: 'Bearer', credentials_file: '/work/.lab/secrets/receiver_token' },
      },
    });
    expect(config.receivers.map((r) => r.name)).toEqual(
      (shipped.receivers as { name: string }[]).map((r) => r.name),
    );
  });

  it('the lab publishes the exporters on ports of their own', () => {
    const ports = Object.values(DEFAULT_PORTS);
    expect(new Set(ports).size).toBe(ports.length);
    expect(DEFAULT_PORTS).toMatchObject({ postfixExporter: 19154, smtpProbes: 19115 });
  });
});

describe('npm start: the monitoring settings', () => {
  it('defaults to 9090 and 9093; MRB_LAB_MONITORING=off runs none; a bad port is said', () => {
    expect(labMonitoringSettings({})).toEqual({
      enabled: true,
      prometheusPort: 9090,
      alertmanagerPort: 9093,
    });
    expect(labMonitoringSettings({ MRB_PROMETHEUS_PORT: '19090', MRB_ALERTMANAGER_PORT: '19093' })).toEqual({
      enabled: true,
      prometheusPort: 19090,
      alertmanagerPort: 19093,
    });
    expect(labMonitoringSettings({ MRB_LAB_MONITORING: 'off' })).toEqual({ enabled: false });
    expect(() => labMonitoringSettings({ MRB_PROMETHEUS_PORT: 'x' })).toThrow(/MRB_PROMETHEUS_PORT=x/);
  });

  it('a missing program is named with the package that has it', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const found = await monitoringBinaries({ usrBin: '/nonexistent' });
      expect(found.ok).toBe(false);
      if (!found.ok) {
        expect(found.problem.problem).toMatch(/prometheus and prometheus-alertmanager are not installed/);
        expect(found.problem.fix).toMatch(/apt-get install prometheus prometheus-alertmanager/);
      }
    } finally {
      process.env.PATH = saved;
    }
  });
});
