/**
 * Mail server faults: amavis down, the relay key's permissions, a relay map Postfix does not use, and an
 * open relay. Each shows the symptom the runbooks look for; healing restores the healthy behaviour.
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { labNetwork, labStatus } from '../../src/lab/lab.js';
import { NAMES } from '../../src/lab/settings.js';
import {
  healAndFlush,
  inLab,
  labForFaultTests,
  queue,
  reinjectedId,
  submit,
  token,
  waitForLog,
  waitForMail,
  withFault,
  type Lab,
} from '../helpers/lab.js';

let lab: Lab;
labForFaultTests(
  (l) => (lab = l),
  ['amavis-down', 'amavis-hung', 'ssh-key-perms', 'relaymap-ineffective', 'relay-excluded', 'open-relay'],
);

const RELAY = NAMES.relayHost.replace(/\./g, '\\.');

describe('amavis-down', () => {
  it('mail is deferred with dsn=4.4.1 127.0.0.1[127.0.0.1]:10024 Connection refused; heal + flush delivers', async () => {
    await withFault(lab, 'amavis-down', async () => {
      const st = await labStatus(lab.ctx);
      const ms = st.containers.find((c) => c.role === 'mailserver')!;
      expect(ms.faults.map((f) => f.name)).toContain('amavis-down');
      expect(ms.problems.join('\n')).toMatch(/program amavis|port 10024/);

      const t = token();
      const { queueId } = await submit(lab, { to: NAMES.destUser, token: t });
      const line = await waitForLog(
        lab,
        new RegExp(`${queueId}: to=<${NAMES.destUser}>, relay=none, .*status=deferred`),
        60_000,
      );
      expect(line).toMatch(
        /dsn=4\.4\.1, status=deferred \(connect to 127\.0\.0\.1\[127\.0\.0\.1\]:10024: Connection refused\)/,
      );
      const entry = (await queue(lab)).find((m) => m.queue_id === queueId);
      expect(entry?.queue_name).toBe('deferred');
      expect(entry?.recipients[0]?.delay_reason).toContain('127.0.0.1[127.0.0.1]:10024: Connection refused');

      await healAndFlush(lab, 'amavis-down');
      await waitForMail(lab, 'dest', t, 60_000);
    });
  });
});

describe('amavis-hung', () => {
  it('10024 listens and amavis is RUNNING but never greets: deferred with dsn=4.4.2 ... timed out; heal + flush delivers', async () => {
    await withFault(lab, 'amavis-hung', async () => {
      const st = await inLab(lab, 'mailserver', ['supervisorctl', 'status', 'amavis'], { allowFail: true });
      expect(st.stdout).toMatch(/RUNNING/);
      const t = token();
      const { queueId } = await submit(lab, { to: NAMES.destUser, token: t });
      // after smtp_helo_timeout (20 s in the lab)
      const line = await waitForLog(
        lab,
        new RegExp(
          `${queueId}: to=<${NAMES.destUser}>, relay=127\\.0\\.0\\.1.*dsn=4\\.4\\.2, status=deferred`,
        ),
        90_000,
      );
      expect(line).toMatch(/timed out while receiving the initial server greeting/);

      await healAndFlush(lab, 'amavis-hung');
      await waitForMail(lab, 'dest', t, 60_000);
    });
  });
});

describe('ssh-key-perms', () => {
  const ssh = ['ssh', '-F', '/home/cloudrelay/.ssh/config', 'cloudrelay', 'echo', 'OK'];

  it('makes the relay key 0644 so ssh refuses it; heal restores 0600 and ssh works', async () => {
    await withFault(lab, 'ssh-key-perms', async () => {
      const mode = await inLab(lab, 'mailserver', ['stat', '-c', '%a', '/home/cloudrelay/.ssh/id_rsa']);
      expect(mode.stdout.trim()).toBe('644');
      const r = await inLab(lab, 'mailserver', ssh, { allowFail: true });
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toContain('UNPROTECTED PRIVATE KEY FILE');
      expect(r.stderr).toMatch(/Permissions 0644 for '\/home\/cloudrelay\/\.ssh\/id_rsa' are too open/);
      expect(r.stderr).toContain('Permission denied (publickey)');
    });
    expect(
      (await inLab(lab, 'mailserver', ['stat', '-c', '%a', '/home/cloudrelay/.ssh/id_rsa'])).stdout.trim(),
    ).toBe('600');
    expect((await inLab(lab, 'mailserver', ssh)).stdout.trim()).toBe('OK');
  });
});

describe('relaymap-ineffective', () => {
  it('relayhost_map is still there but unused: mail goes direct (relay=none) and is deferred; heal routes via the relay', async () => {
    await withFault(lab, 'relaymap-ineffective', async () => {
      expect(
        (await inLab(lab, 'mailserver', ['postconf', '-h', 'sender_dependent_relayhost_maps'])).stdout.trim(),
      ).toBe('');
      // one space on the lab image, four on docker-mailserver
      expect((await inLab(lab, 'mailserver', ['cat', '/etc/postfix/relayhost_map'])).stdout).toMatch(
        new RegExp(`^@${NAMES.mailDomain.replace(/\./g, '\\.')}\\s+\\[${RELAY}\\]:2526$`, 'm'),
      );
      const { t, id } = await submitDeferredDirect();

      await healAndFlush(lab, 'relaymap-ineffective');
      await waitForMail(lab, 'dest', t, 60_000);
      await waitForLog(
        lab,
        new RegExp(`${id}: to=<${NAMES.destUser}>, relay=${RELAY}\\[[0-9.]+\\]:2526, .*status=sent`),
        30_000,
      );
    });
  });
});

describe('relay-excluded (docker-mailserver only)', () => {
  it("DMS's `setup relay exclude-domain lab.test`: its change detector drops @lab.test from relayhost_map; mail goes direct and is deferred; heal routes via the relay", async (ctx) => {
    if (lab.up.settings.dmsImage === undefined) ctx.skip();
    await withFault(lab, 'relay-excluded', async () => {
      expect(
        (await inLab(lab, 'mailserver', ['cat', '/tmp/docker-mailserver/postfix-relaymap.cf'])).stdout,
      ).toMatch(/^@lab\.test\s*$/m);
      expect((await inLab(lab, 'mailserver', ['cat', '/etc/postfix/relayhost_map'])).stdout).not.toMatch(
        /^@lab\.test\s+\S/m,
      );
      const { t } = await submitDeferredDirect();

      await healAndFlush(lab, 'relay-excluded');
      await waitForMail(lab, 'dest', t, 60_000);
    });
    expect((await inLab(lab, 'mailserver', ['cat', '/etc/postfix/relayhost_map'])).stdout).toMatch(
      new RegExp(`^@lab\\.test\\s+\\[${RELAY}\\]:2526$`, 'm'),
    );
  });
});

/**
 * A message to the destination that leaves without the relay: Postfix looks up dest.test's MX itself (the
 * lab's DNS answers nothing outside the lab), so it is deferred with relay=none. Returns its token and the
 * queue id after amavis.
 */
async function submitDeferredDirect(): Promise<{ t: string; id: string }> {
  const t = token();
  const { queueId } = await submit(lab, { to: NAMES.destUser, token: t });
  const id = await reinjectedId(lab, queueId);
  const line = await waitForLog(
    lab,
    new RegExp(`${id}: to=<${NAMES.destUser}>, relay=none, .*status=deferred`),
    60_000,
  );
  expect(line).toMatch(/Host or domain name not found\. Name service error for name=dest\.test type=MX/);
  expect(line).not.toContain(NAMES.relayHost);
  return { t, id };
}

/** Unauthenticated SMTP on the mail server's port 25 (published on 127.0.0.1): the RCPT reply. */
async function relayProbe(): Promise<string> {
  const socket: Socket = connect({ host: '127.0.0.1', port: lab.ports.smtp });
  socket.setTimeout(15_000);
  let buffer = '';
  const replies: string[] = [];
  let waiting: ((line: string) => void) | undefined;
  socket.on('data', (d: Buffer) => {
    buffer += d.toString();
    for (;;) {
      const i = buffer.indexOf('\r\n');
      if (i < 0) break;
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      if (/^\d{3} /.test(line)) {
        if (waiting) {
          const w = waiting;
          waiting = undefined;
          w(line);
        } else replies.push(line);
      }
    }
  });
  const reply = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const queued = replies.shift();
      if (queued !== undefined) return resolve(queued);
      waiting = resolve;
      socket.once('timeout', () => reject(new Error('SMTP probe timed out')));
      socket.once('error', reject);
    });
  try {
    await reply();
    socket.write('EHLO probe.example.test\r\n');
    await reply();
    socket.write('MAIL FROM:<probe@outside.example>\r\n');
    await reply();
    socket.write('RCPT TO:<victim@elsewhere.example>\r\n');
    const rcpt = await reply();
    socket.write('QUIT\r\n');
    return rcpt;
  } finally {
    socket.end();
  }
}

/** 454 4.7.1 on the lab image (it defers), 554 5.7.1 on docker-mailserver (reject_unauth_destination). */
const DENIED = /^[45]54 [45]\.7\.1 .*Relay access denied/;

describe('open-relay', () => {
  it.each(['network', 'host'] as const)(
    'PERMIT_DOCKER=%s: relay access is denied without AUTH; with mynetworks = a whole private range that holds the lab network it is granted (250); heal denies again',
    async (mode) => {
      const { findFault, injectFault } = await import('../../src/lab/faults.js');
      expect(await relayProbe()).toMatch(DENIED);
      // What heal must restore: 127.0.0.0/8 on the lab image, empty on docker-mailserver (PERMIT_DOCKER=none).
      const before = (await inLab(lab, 'mailserver', ['postconf', '-h', 'mynetworks'])).stdout.trim();
      try {
        expect(await injectFault(lab.ctx, findFault('open-relay'), [mode])).toContain(
          `PERMIT_DOCKER=${mode}`,
        );
        expect((await inLab(lab, 'mailserver', ['postconf', '-h', 'mynetworks'])).stdout).toMatch(
          mode === 'network' ? /\b172\.16\.0\.0\/12\b/ : /\.0\.0\/16\b/,
        );
        // Docker may give the lab's network a subnet outside 172.16.0.0/12 (192.168.x once its pool has moved
        // on): then PERMIT_DOCKER=network trusts a range the probe (from the network's gateway) is not in,
        // exactly as on a real DMS, and relaying stays denied.
        const { inPermitDockerNetworkRange } = await import('../../src/lab/faults.js');
        const covered =
          mode === 'host' || inPermitDockerNetworkRange((await labNetwork(lab.ctx))?.subnet ?? '');
        expect(await relayProbe()).toMatch(covered ? /^250 / : DENIED);
      } finally {
        await healAndFlush(lab, 'open-relay');
      }
      expect(await relayProbe()).toMatch(DENIED);
      expect((await inLab(lab, 'mailserver', ['postconf', '-h', 'mynetworks'])).stdout.trim()).toBe(before);
    },
  );
});
