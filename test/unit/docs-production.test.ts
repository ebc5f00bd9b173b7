/**
 * docs/production.md grants the relay admin exactly what the command catalogue runs: every Linux relay
 * command (src/commands/relay-linux.ts, for the example's unit and logs) is listed there verbatim, and the
 * polkit rule allows exactly the systemctl verbs of the state-changing ones, for that unit and user.
 * docs/config.production.example.yaml loads and names the same user, unit and logs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { relayLinuxCommands } from '../../src/commands/index.js';
import { loadConfig, parseConfig } from '../../src/config/load.js';

const doc = readFileSync('docs/production.md', 'utf8');
const UNIT = 'smtp-relay.service';
const LOGS = ['/var/log/smtp-relay/relay.log', '/var/log/smtp-relay/relay.err.log'];

const shown = (argv: readonly string[]) => argv.join(' ');

const systemdCommands = [
  relayLinuxCommands.systemdIsActive(UNIT),
  relayLinuxCommands.systemdMainPid(UNIT),
  relayLinuxCommands.systemdRestart(UNIT),
  relayLinuxCommands.systemdSet(UNIT, true),
  relayLinuxCommands.systemdSet(UNIT, false),
];

describe('docs/production.md', () => {
  it('lists each command the runbooks run on a Linux relay, verbatim', () => {
    const commands = [
      relayLinuxCommands.listeningPorts(),
      ...systemdCommands,
      relayLinuxCommands.processAge(1234),
      relayLinuxCommands.tailLog(LOGS[0]!, 50),
    ];
    for (const command of commands) {
      const line = shown(command.argv)
        .replace(/ -p 1234$/, ' -p <pid>')
        .replace(/ -n 50 /, ' -n <n> ');
      expect(doc, line).toContain(`\`${line}\``);
    }
  });

  it("the polkit rule allows exactly the state-changing commands' verbs, for that unit and user", () => {
    const rule = /```js\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const verbs = /\[([^\]]*)\]\.indexOf\(action\.lookup\('verb'\)\)/.exec(rule)?.[1];
    const allowed = [...(verbs ?? '').matchAll(/'([a-z-]+)'/g)].map((m) => m[1]).sort();
    const changing = systemdCommands
      .filter((c) => c.stateChanging)
      .map((c) => c.argv[1])
      .sort();
    expect(allowed).toEqual(changing);
    expect(systemdCommands.filter((c) => !c.stateChanging).map((c) => c.argv[1])).toEqual([
      'is-active',
      'show',
    ]);
    expect(rule).toContain(`action.lookup('unit') === '${UNIT}'`);
    expect(rule).toContain("subject.user === 'mrb-relay'");
    expect(rule).toContain("action.id === 'org.freedesktop.systemd1.manage-units'");
  });

  it('covers the checklist: relay account, canary, keys, host keys, secrets, monitoring', () => {
    for (const heading of [
      'The relay admin account, and exactly its rights',
      'SSH keys',
      'The canary account and its destination mailbox',
      'Pinning host keys',
      'Secrets',
      'Prometheus and Alertmanager',
    ])
      expect(doc).toMatch(new RegExp(`^## \\d+\\. ${heading}$`, 'm'));
    expect(doc).toContain('setup email add canary@example.org');
    expect(doc).toContain('npx mail-runbooks hostkey relay.example.org 22');
  });
});

describe('docs/config.production.example.yaml', () => {
  it('loads, and names the account, unit and logs production.md creates', async () => {
    const config = await loadConfig('docs/config.production.example.yaml');
    const target = config.targets[0]!;
    expect(target.relay).toMatchObject({
      flavour: 'linux',
      ssh: { user: 'mrb-relay', host: 'relay.example.org', port: 22 },
      service: { manager: 'systemd', name: UNIT },
      logs: { log: LOGS[0], errorLog: LOGS[1] },
    });
    expect(target.canary).toMatchObject({ from: 'canary@example.org', to: 'canary@example.net' });
    expect(target.approval).toMatchObject({ allowUnsigned: false, fourEyes: true });
  });

  it('its commented provider-relay variant, uncommented in place of the relay, is valid, and so is the one in production.md', () => {
    const text = readFileSync('docs/config.production.example.yaml', 'utf8');
    const lines = text.split('\n');
    const start = lines.findIndex((l) => l === '    # relay:');
    const end = lines.findIndex((l, i) => i > start && !l.startsWith('    #   '));
    expect(start).toBeGreaterThan(0);
    const variant = lines.slice(start, end).map((l) => l.replace(/^ {4}# /, '    '));
    const relayAt = lines.findIndex((l) => l === '    relay:');
    const relayEnd = lines.findIndex(
      (l, i) => i > relayAt && /^ {4}\S/.test(l) && !l.startsWith('    relay:'),
    );
    const swapped = [...lines.slice(0, relayAt), ...variant, ...lines.slice(relayEnd)]
      .join('\n')
      .replace(/^ {6}relayClient:(\n {8}.*)+/m, '');
    const relay = parseConfig(swapped, 'production-provider.yaml').targets[0]!.relay;
    expect(relay).toMatchObject({ flavour: 'provider', port: 587, sasl: { user: 'AKIAEXAMPLEEXAMPLE' } });
    expect(doc).toContain('  flavour: provider # checked over SMTP only; the host is canary.expectRelay');
  });
});
