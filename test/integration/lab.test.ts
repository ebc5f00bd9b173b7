/**
 * The mail lab itself: `up` is idempotent and fast when warm, mail submitted with AUTH (587 STARTTLS and
 * 465 implicit TLS, lab CA pinned) goes mail server -> amavis -> relay (AUTH on 2526) -> destination and is
 * read there over IMAPS, the DMS layout and wiring are in place, the relay is reachable over SSH with its
 * pinned host key, and the generated target config passes `config check`.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Client as SshClient } from 'ssh2';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFile } from 'node:fs/promises';
import { checkConfig } from '../../src/config/check.js';
import { labDown, labUp } from '../../src/lab/lab.js';
import { sshFingerprint } from '../../src/lab/material.js';
import { CONTAINERS, LAB_LABEL, NAMES, NETWORK } from '../../src/lab/settings.js';
import { ensureLab, inLab, submit, token, waitForLog, waitForMail, type Lab } from '../helpers/lab.js';

let lab: Lab;

beforeAll(async () => {
  lab = await ensureLab();
});

/** The relay leg of a submitted message: amavis re-queues it under a new id, which then goes to the relay. */
async function relayedLine(queueId: string): Promise<string> {
  const amavis = await waitForLog(lab, new RegExp(`Queue-ID: ${queueId}, .*queued_as: ([0-9A-F]+)`), 30_000);
  const second = /queued_as: ([0-9A-F]+)/.exec(amavis)?.[1];
  return waitForLog(
    lab,
    new RegExp(
      `${second}: to=<${NAMES.destUser}>, relay=${NAMES.relayHost}\\[[^\\]]+\\]:2526, .*status=sent`,
    ),
    30_000,
  );
}

/** Runs one command on the relay host over SSH as the runbooks do: key auth, host key pinned. */
function relaySsh(command: string): Promise<{ code: number | null; stdout: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const conn = new SshClient();
    let fingerprint = '';
    const timer = setTimeout(() => {
      conn.end();
      reject(new Error('ssh to the relay timed out'));
    }, 20_000);
    conn
      .on('ready', () => {
        conn.exec(command, (err, stream) => {
          if (err) return reject(err);
          let stdout = '';
          stream.on('data', (d: Buffer) => (stdout += d.toString()));
          stream.stderr.on('data', () => undefined);
          stream.on('close', (code: number | null) => {
            clearTimeout(timer);
            conn.end();
            resolve({ code, stdout, fingerprint });
          });
        });
      })
      .on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      })
      .connect({
        host: '127.0.0.1',
        port: lab.ports.relaySsh,
        username: NAMES.relayAdmin,
        privateKey: lab.relayAdminKey,
        readyTimeout: 15_000,
        hostVerifier: (key: Buffer) => {
          fingerprint = sshFingerprint(`ssh-ed25519 ${key.toString('base64')}`);
          return fingerprint === pinnedHostKey;
        },
      });
  });
}

let pinnedHostKey = '';

describe('lab up', () => {
  it('is idempotent: a second up reuses every container, well under 20 s', async () => {
    const again = await labUp(lab.ctx);
    expect(again.created).toEqual([]);
    expect(again.reused.sort()).toEqual(['dest', 'mailserver', 'relay']);
    expect(again.built).toEqual([]);
    expect(again.seconds.total).toBeLessThan(20);
  });

  it('publishes ports on 127.0.0.1 only, on the mrb-lab network', async () => {
    for (const name of Object.values(CONTAINERS)) {
      const info = await lab.ctx.docker.getContainer(name).inspect();
      expect(Object.keys(info.NetworkSettings.Networks)).toEqual([NETWORK]);
      const portBindings = (info.HostConfig.PortBindings ?? {}) as Record<string, { HostIp: string }[]>;
      const bindings = Object.values(portBindings).flat();
      expect(bindings.length).toBeGreaterThan(0);
      for (const b of bindings) expect(b.HostIp).toBe('127.0.0.1');
    }
  });

  it('writes a target config that passes config check, with secrets only as file references (0600)', async () => {
    const result = await checkConfig(lab.up.config);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    const text = await readFile(lab.up.config, 'utf8');
    for (const secret of [lab.canaryPassword, lab.destPassword]) expect(text).not.toContain(secret);
    const config = parse(text) as { targets: { relay: { ssh: { hostKey: string } } }[] };
    pinnedHostKey = config.targets[0]!.relay.ssh.hostKey;
    expect(pinnedHostKey).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    for (const s of result.summary.secrets) {
      expect(s.ok).toBe(true);
      const file = /^file (.*)$/.exec(s.reference)?.[1];
      expect(file, s.reference).toBeDefined();
      if (file!.includes('/secrets/')) expect((await stat(file!)).mode & 0o777).toBe(0o600);
    }
    expect((await stat(join(lab.ctx.paths.ca, 'ca.key'))).mode & 0o777).toBe(0o600);
  });
});

describe('mail flows end to end', () => {
  it('587 STARTTLS with AUTH -> mail server -> amavis -> relay -> destination, read over IMAPS', async () => {
    const t = token();
    const { queueId } = await submit(lab, { to: NAMES.destUser, token: t }, 'starttls');
    const line = await relayedLine(queueId);
    expect(line).toContain(`relay=${NAMES.relayHost}[`);
    const got = await waitForMail(lab, 'dest', t, 60_000);
    expect(got.subject).toContain(t);
    // the relay forwarded it to the destination, and only there
    const relayLog = (await inLab(lab, 'relay', ['cat', '/var/log/smtp-relay/relay.log'])).stdout;
    expect(relayLog).toMatch(new RegExp(`sasl_method=PLAIN, sasl_username=${NAMES.relaySaslUser}`));
    expect(relayLog).toMatch(new RegExp(`relay=${NAMES.destHost}\\[[^\\]]+\\]:25, .*status=sent`));
  });

  it('465 implicit TLS with AUTH reaches the destination too', async () => {
    const t = token();
    const { queueId } = await submit(lab, { to: NAMES.destUser, token: t }, 'implicit');
    await relayedLine(queueId);
    await waitForMail(lab, 'dest', t, 60_000);
  });

  it('the canary mailbox canary@lab.test on the mail server is readable over IMAPS', async () => {
    const t = token();
    await submit(lab, { to: NAMES.canaryUser, token: t });
    await waitForMail(lab, 'mail', t, 60_000);
  });
});

describe('the mail server looks like docker-mailserver', () => {
  it('supervisord with DMS program names, socket /dev/shm/supervisor.sock', async () => {
    // DMS lists the programs it configured off as `STOPPED Not started`, and supervisorctl then exits 3.
    const st = (await inLab(lab, 'mailserver', ['supervisorctl', 'status'], { allowFail: true })).stdout;
    for (const p of ['mailserver', 'postfix', 'dovecot', 'amavis', 'rsyslog', 'cron']) {
      expect(st).toMatch(new RegExp(`^${p}\\s+RUNNING`, 'm'));
    }
    await inLab(lab, 'mailserver', ['test', '-S', '/dev/shm/supervisor.sock']);
    // amavis renames its processes, so read the commands from supervisord's config (DMS's dms-services.conf)
    const conf = (await inLab(lab, 'mailserver', ['cat', '/etc/supervisor/conf.d/dms-services.conf'])).stdout;
    // DMS writes `command=...`, the lab image `command = ...`.
    expect(conf).toMatch(/^command ?= ?\/usr\/sbin\/amavisd foreground$/m);
    expect(conf).toMatch(
      /^command ?= ?\/usr\/bin\/pidproxy \/var\/spool\/postfix\/pid\/master.pid \/usr\/sbin\/postfix start-fg$/m,
    );
    const ps = (await inLab(lab, 'mailserver', ['ps', '-eo', 'args'])).stdout;
    expect(ps).toContain('/usr/bin/pidproxy /var/spool/postfix/pid/master.pid /usr/sbin/postfix start-fg');
    expect(ps).toMatch(/amavisd \(master\)/);
  });

  it('logs mail to /var/log/mail/mail.log, with /var/log/mail.log linked to it', async () => {
    const link = (await inLab(lab, 'mailserver', ['readlink', '/var/log/mail.log'])).stdout.trim();
    expect(link).toBe('/var/log/mail/mail.log');
    // The whole file: after other suites (floods, restarts) the start line is far from the tail.
    const started = await inLab(lab, 'mailserver', [
      'grep',
      '-cE',
      'postfix/master\\[[0-9]+\\]: daemon started',
      '/var/log/mail/mail.log',
    ]);
    expect(Number(started.stdout.trim())).toBeGreaterThan(0);
  });

  it('wires amavis like DMS and routes lab.test through the relay map with SASL', async () => {
    const n = (await inLab(lab, 'mailserver', ['postconf', '-n'])).stdout;
    expect(n).toContain('content_filter = smtp-amavis:[127.0.0.1]:10024');
    expect(n).toContain('sender_dependent_relayhost_maps = texthash:/etc/postfix/relayhost_map');
    expect(n).toContain('smtp_sasl_auth_enable = yes');
    expect(n).toContain('smtp_sasl_password_maps = texthash:/etc/postfix/sasl_passwd');
    // PERMIT_DOCKER=none: docker-mailserver empties mynetworks, the lab image keeps loopback.
    expect(n.split('\n')).toContain(lab.up.settings.dmsImage ? 'mynetworks =' : 'mynetworks = 127.0.0.0/8');
    const m = (await inLab(lab, 'mailserver', ['postconf', '-M'])).stdout;
    expect(m).toMatch(/^127\.0\.0\.1:10025\s+inet\s.*smtpd/m);
    expect(m).toMatch(/^smtp-amavis\s+unix\s.*smtp/m);
    const map = (await inLab(lab, 'mailserver', ['cat', '/etc/postfix/relayhost_map'])).stdout;
    expect(map.trim()).toMatch(new RegExp(`^@${NAMES.mailDomain}\\s+\\[${NAMES.relayHost}\\]:2526$`));
    const mode = (
      await inLab(lab, 'mailserver', ['stat', '-c', '%a %U', '/etc/postfix/sasl_passwd'])
    ).stdout.trim();
    expect(mode).toBe('600 root');
  });

  it('reaches the relay over SSH from inside the container as operators check it by hand (ssh cloudrelay echo OK)', async () => {
    const key = (
      await inLab(lab, 'mailserver', ['stat', '-c', '%a %U', '/home/cloudrelay/.ssh/id_rsa'])
    ).stdout.trim();
    expect(key).toBe('600 root');
    const r = await inLab(lab, 'mailserver', [
      'ssh',
      '-F',
      '/home/cloudrelay/.ssh/config',
      'cloudrelay',
      'echo',
      'OK',
    ]);
    expect(r.stdout.trim()).toBe('OK');
  });
});

describe('the relay host', () => {
  it('answers SSH with the pinned host key; the runbook user can drive the watchdog and read the logs', async () => {
    if (!pinnedHostKey) {
      const config = parse(await readFile(lab.up.config, 'utf8')) as {
        targets: { relay: { ssh: { hostKey: string } } }[];
      };
      pinnedHostKey = config.targets[0]!.relay.ssh.hostKey;
    }
    const r = await relaySsh(
      'supervisorctl status smtp-relay; ss -Htln; tail -n 3 /var/log/smtp-relay/relay.log',
    );
    expect(r.fingerprint).toBe(pinnedHostKey);
    expect(r.stdout).toMatch(/^smtp-relay\s+RUNNING/m);
    expect(r.stdout).toMatch(/:2526\s/);
  });

  it('refuses a different pinned key (host key checking is real)', async () => {
    const saved = pinnedHostKey;
    pinnedHostKey = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    try {
      await expect(relaySsh('true')).rejects.toThrow();
    } finally {
      pinnedHostKey = saved;
    }
  });

  it('accepts key authentication only', async () => {
    const cfg = (await inLab(lab, 'relay', ['sshd', '-T'])).stdout;
    expect(cfg).toMatch(/^passwordauthentication no$/m);
    expect(cfg).toMatch(/^authenticationmethods publickey$/m);
  });

  it('requires AUTH on 2526: without it the recipient is refused', async () => {
    // An SMTP conversation from the mail server container, without AUTH.
    const script = [
      `exec 3<>/dev/tcp/${NAMES.relayHost}/2526`,
      'read -r greeting <&3; echo "$greeting"',
      "printf 'EHLO probe.lab.test\\r\\n' >&3",
      'while IFS= read -r l <&3; do echo "$l"; [ "${l:3:1}" = " " ] && break; done',
      'printf \'MAIL FROM:<probe@lab.test>\\r\\n\' >&3; read -r l <&3; echo "$l"',
      `printf 'RCPT TO:<${NAMES.destUser}>\\r\\n' >&3; read -r l <&3; echo "$l"`,
      "printf 'QUIT\\r\\n' >&3; read -r l <&3",
    ].join('\n');
    const out = (await inLab(lab, 'mailserver', ['timeout', '10', 'bash', '-c', script])).stdout;
    expect(out).toMatch(/^220 /m);
    expect(out).toMatch(/^250-STARTTLS/m);
    expect(out).not.toMatch(/^250-AUTH/m); // AUTH is offered only after STARTTLS
    expect(out).toMatch(/^554 5\.7\.1 .*Access denied|^554 5\.7\.1 .*Relay access denied/m);
  });

  it('down leaves no container and no network; up brings it back from the cached images', async () => {
    const down = await labDown(lab.ctx);
    expect(down.removedContainers.sort()).toEqual(Object.values(CONTAINERS).sort());
    const left = await lab.ctx.docker.listContainers({ all: true, filters: { label: [`${LAB_LABEL}=1`] } });
    expect(left).toEqual([]);
    await expect(lab.ctx.docker.getNetwork(NETWORK).inspect()).rejects.toThrow();
    const started = Date.now();
    const up = await labUp(lab.ctx);
    expect(up.built).toEqual([]); // images came from the cache
    console.log(`lab up after down (images cached): ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 300_000);
});
