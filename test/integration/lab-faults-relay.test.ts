/**
 * Relay faults: each one shows its real symptom in the mail server's log and queue (what the runbooks
 * will read), and healing it (plus the flush an operator does) gets the deferred mail delivered.
 */
import { describe, expect, it } from 'vitest';
import { labStatus } from '../../src/lab/lab.js';
import { NAMES } from '../../src/lab/settings.js';
import {
  flush,
  healAndFlush,
  inLab,
  labForFaultTests,
  mailLog,
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
labForFaultTests((l) => (lab = l), ['relay-down', 'relay-hung', 'relay-auth']);

/** Submits a message to the destination and returns its relay-leg queue id (after amavis). */
async function sendToDest(): Promise<{ token: string; id: string }> {
  const t = token();
  const { queueId } = await submit(lab, { to: NAMES.destUser, token: t });
  return { token: t, id: await reinjectedId(lab, queueId) };
}

async function deferredReason(id: string): Promise<string | undefined> {
  const entry = (await queue(lab)).find((m) => m.queue_id === id);
  return entry?.queue_name === 'deferred' ? entry.recipients[0]?.delay_reason : undefined;
}

const RELAY = NAMES.relayHost.replace(/\./g, '\\.');

describe('relay-down', () => {
  it('closes 2526; mail is deferred with "Connection refused"; heal + flush delivers it', async () => {
    await withFault(lab, 'relay-down', async () => {
      const st = await inLab(lab, 'relay', ['supervisorctl', 'status', 'smtp-relay'], { allowFail: true });
      expect(st.stdout).toMatch(/STOPPED/);
      const status = await labStatus(lab.ctx);
      const relay = status.containers.find((c) => c.role === 'relay')!;
      expect(relay.faults.map((f) => f.name)).toContain('relay-down');
      expect(relay.problems.join('\n')).toMatch(/smtp-relay|2526/);

      const msg = await sendToDest();
      const line = await waitForLog(
        lab,
        new RegExp(`${msg.id}: to=<${NAMES.destUser}>, relay=none, .*dsn=4\\.4\\.1, status=deferred`),
        60_000,
      );
      expect(line).toMatch(new RegExp(`connect to ${RELAY}\\[[0-9.]+\\]:2526: Connection refused`));
      expect(await deferredReason(msg.id)).toMatch(/Connection refused/);

      await healAndFlush(lab, 'relay-down');
      await waitForMail(lab, 'dest', msg.token, 60_000);
      await waitForLog(
        lab,
        new RegExp(`${msg.id}: to=<${NAMES.destUser}>, relay=${RELAY}\\[[0-9.]+\\]:2526, .*status=sent`),
        30_000,
      );
    });
  });
});

describe('relay-hung', () => {
  it('2526 still listens and smtp-relay is RUNNING, but nothing answers: greeting timeout, deferred; heal delivers', async () => {
    await withFault(lab, 'relay-hung', async () => {
      expect((await inLab(lab, 'relay', ['supervisorctl', 'status', 'smtp-relay'])).stdout).toMatch(
        /RUNNING/,
      );
      expect((await inLab(lab, 'relay', ['ss', '-Htln'])).stdout).toMatch(/:2526\s/);
      const deep = await inLab(lab, 'relay', ['/usr/local/bin/lab-healthcheck', '--deep'], {
        allowFail: true,
      });
      expect(deep.stdout).toContain('port 2526: no SMTP greeting');

      const msg = await sendToDest();
      // the lab sets smtp_helo_timeout = 20s (Postfix default 300s) so this shows within the test
      const line = await waitForLog(
        lab,
        new RegExp(`${msg.id}: to=<${NAMES.destUser}>, relay=${RELAY}\\[[0-9.]+\\]:2526, .*status=deferred`),
        90_000,
      );
      expect(line).toContain('timed out while receiving the initial server greeting');
      expect(await deferredReason(msg.id)).toMatch(/timed out while receiving the initial server greeting/);

      await healAndFlush(lab, 'relay-hung');
      await waitForMail(lab, 'dest', msg.token, 90_000);
    });
  });

  it('a watchdog restart (supervisorctl restart smtp-relay) also cures a hung relay', async () => {
    await withFault(lab, 'relay-hung', async () => {
      await inLab(lab, 'relay', ['supervisorctl', 'restart', 'smtp-relay'], { timeoutMs: 60_000 });
      const msg = await sendToDest();
      await flush(lab);
      await waitForMail(lab, 'dest', msg.token, 60_000);
    });
  });
});

describe('relay-auth', () => {
  it('the relay answers 535 to the credentials; mail deferred; the relay error log says why; heal delivers', async () => {
    await withFault(lab, 'relay-auth', async () => {
      const msg = await sendToDest();
      const line = await waitForLog(
        lab,
        new RegExp(`${msg.id}: to=<${NAMES.destUser}>, relay=${RELAY}\\[[0-9.]+\\]:2526, .*status=deferred`),
        60_000,
      );
      expect(line).toMatch(
        /SASL authentication failed; server relay\.lab\.test\[[0-9.]+\] said: 535 5\.7\.8/,
      );
      expect(await deferredReason(msg.id)).toMatch(/SASL authentication failed/);
      const errLog = await mailLog(lab, 'relay', '/var/log/smtp-relay/relay.err.log', 200);
      expect(errLog).toMatch(/warning: .*SASL (PLAIN|LOGIN) authentication failed/);

      await healAndFlush(lab, 'relay-auth');
      await waitForMail(lab, 'dest', msg.token, 60_000);
    });
  });
});
