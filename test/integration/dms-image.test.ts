/**
 * The real docker-mailserver 15.1.0, built here from the vendored release (src/lab/dms-image.ts), runs:
 * it starts with a fully qualified hostname, takes its first account from `setup email add` while its start
 * script waits for one, passes its compose file's health check, takes a second account the DMS way (the
 * change detector picks it up), and a message submitted with nodemailer over a published loopback port
 * goes through amavis into that mailbox (checked with doveadm).
 *
 * Uses none of the shared mrb-lab-* containers (no lab lock): its own container and network, both named
 * mrb-dms-try-<random> and removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DMS_IMAGE, DMS_REVISION, DMS_VERSION, ensureDmsImage } from '../../src/lab/dms-image.js';
import { tar } from '../../src/lab/tar.js';
import { queueIdFromResponse } from '../../src/mail/submission.js';
import { dmsTry, type DmsTry } from '../helpers/dms-try.js';
import { pollUntil } from '../helpers/poll.js';

const docker = new Docker();
const DOMAIN = 'try.test';
const FIRST = `postmaster@${DOMAIN}`;
const SECOND = `user@${DOMAIN}`;
const SECOND_PASSWORD = randomBytes(12).toString('base64url');
/** docker-mailserver's compose.yaml health check, verbatim. */
const COMPOSE_HEALTHCHECK = "ss --listening --ipv4 --tcp | grep --silent ':smtp'";
const SECOND_NS = 1_000_000_000;

let place: DmsTry;
let NAME = '';
let smtpPort = 0;
let secondsToHealthy = 0;
const log = (line: string): void => console.log(line);
const run: DmsTry['run'] = (argv, timeoutMs) => place.run(argv, timeoutMs);
const runOk: DmsTry['runOk'] = (argv, timeoutMs) => place.runOk(argv, timeoutMs);

beforeAll(async () => {
  const built = await ensureDmsImage(docker, log);
  log(
    `dms-image test: ${DMS_IMAGE} ${built.built ? 'built' : 'cached'} in ${built.seconds.total.toFixed(1)} s`,
  );

  place = await dmsTry(docker);
  NAME = place.name;
  const container = await docker.createContainer({
    name: NAME,
    Image: DMS_IMAGE,
    Hostname: 'mail',
    Domainname: DOMAIN,
    Env: [
      'ENABLE_UPDATE_CHECK=0',
      'ENABLE_CLAMAV=0',
      'ENABLE_RSPAMD=0',
      'ENABLE_AMAVIS=1',
      'ENABLE_SPAMASSASSIN=0',
      'ENABLE_OPENDKIM=0',
      'ENABLE_OPENDMARC=0',
      'ENABLE_POLICYD_SPF=0',
      'ENABLE_FAIL2BAN=0',
      'ENABLE_POSTGREY=0',
      'PERMIT_DOCKER=none',
      'LOG_LEVEL=info',
    ],
    ExposedPorts: { '25/tcp': {} },
    Healthcheck: {
      Test: ['CMD-SHELL', COMPOSE_HEALTHCHECK],
      Interval: 2 * SECOND_NS,
      Timeout: 5 * SECOND_NS,
      Retries: 3,
    },
    HostConfig: {
      NetworkMode: NAME,
      // Host port chosen by Docker, on loopback only.
      PortBindings: { '25/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
      // No lookup leaves the machine (postscreen's DNSBL queries fail at once).
      Dns: ['127.0.0.1'],
      DnsOptions: ['timeout:1', 'attempts:1'],
      Memory: 1024 * 1024 * 1024,
    },
  });
  // The config volume starts empty: the first account comes from `setup email add` below.
  await container.putArchive(tar([{ path: 'tmp/docker-mailserver', mode: 0o755 }]), { path: '/' });
  const started = Date.now();
  await container.start();
  // DMS's start script waits (up to 120 s) for a first account before it starts Dovecot.
  await pollUntil(30_000, 'setup email add of the first account', async () => {
    const r = await run(['setup', 'email', 'add', FIRST, randomBytes(12).toString('base64url')]);
    return r.exitCode === 0 ? true : undefined;
  });
  await pollUntil(150_000, `${NAME} healthy by the compose health check`, async () => {
    const info = await container.inspect();
    if (!info.State.Running) throw new Error(`container ${info.State.Status}`);
    return info.State.Health?.Status === 'healthy' ? true : undefined;
  });
  secondsToHealthy = (Date.now() - started) / 1000;
  log(`dms-image test: ${NAME} healthy ${secondsToHealthy.toFixed(1)} s after start`);
  const info = await container.inspect();
  smtpPort = Number(info.NetworkSettings.Ports['25/tcp']?.[0]?.HostPort);
}, 1_800_000);

afterAll(async () => {
  await place?.remove();
});

describe('docker-mailserver 15.1.0 built from the vendored release', () => {
  it('is labelled with its release, and runs postfix, dovecot and amavis but no clamav or rspamd', async () => {
    const image = await docker.getImage(DMS_IMAGE).inspect();
    expect(image.Config.Labels?.['org.opencontainers.image.version']).toBe(DMS_VERSION);
    expect(image.Config.Labels?.['org.opencontainers.image.revision']).toBe(DMS_REVISION);
    expect(image.Config.Env).toContain(`DMS_RELEASE=${DMS_VERSION}`);
    const health = (await docker.getContainer(NAME).inspect()).State.Health;
    expect(health?.Status).toBe('healthy');
    expect(secondsToHealthy).toBeLessThan(150);

    const status = (await run(['supervisorctl', 'status'])).stdout;
    for (const program of ['postfix', 'dovecot', 'amavis', 'mailserver', 'changedetector'])
      expect(status, status).toMatch(new RegExp(`^${program}\\s+RUNNING`, 'm'));
    for (const program of ['clamav', 'rspamd', 'update-check'])
      expect(status, status).not.toMatch(new RegExp(`^${program}\\s+RUNNING`, 'm'));
    expect(await runOk(['hostname', '-f'])).toBe(`mail.${DOMAIN}\n`);
  });

  it('setup email add, then mail submitted with nodemailer reaches the mailbox through amavis', async () => {
    await runOk(['setup', 'email', 'add', SECOND, SECOND_PASSWORD]);
    // The change detector creates the Dovecot account and reloads Postfix.
    await pollUntil(60_000, `${SECOND} known to Dovecot`, async () =>
      (await run(['doveadm', 'user', SECOND])).exitCode === 0 ? true : undefined,
    );

    const token = `dms-try-${randomBytes(6).toString('hex')}`;
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: smtpPort,
      secure: false,
      // No certificate is configured (SSL_TYPE unset): plain SMTP on loopback.
      ignoreTLS: true,
      // DMS rejects non-FQDN HELO names.
      name: `client.${DOMAIN}`,
      connectionTimeout: 20_000,
      greetingTimeout: 20_000,
      socketTimeout: 30_000,
    });
    let queueId = '';
    try {
      // Until Postfix has reloaded its tables, the new mailbox is rejected as unknown: retry (bounded).
      queueId = await pollUntil(60_000, `nodemailer submission to ${SECOND}`, async () => {
        const info = await transport.sendMail({
          from: `sender@${DOMAIN}`,
          to: SECOND,
          subject: token,
          text: `a message for the real docker-mailserver\n${token}\n`,
        });
        return queueIdFromResponse(String(info.response ?? ''));
      });
    } finally {
      transport.close();
    }

    const found = await pollUntil(60_000, `message ${token} in ${SECOND}'s INBOX`, async () => {
      const r = await run(['doveadm', 'search', '-u', SECOND, 'mailbox', 'INBOX', 'subject', token]);
      return r.exitCode === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
    });
    expect(found).toMatch(/\S+\s+\d+/);

    // Postfix handed the message to amavis (10024), which re-injected it on 10025 under a new queue id.
    const mailLog = await runOk(['cat', '/var/log/mail/mail.log']);
    const toAmavis = new RegExp(
      `${queueId}: to=<${SECOND}>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:10024, .*status=sent \\(250 2\\.0\\.0 from MTA\\(smtp:\\[127\\.0\\.0\\.1\\]:10025\\): 250 2\\.0\\.0 Ok: queued as ([0-9A-F]+)\\)`,
    ).exec(mailLog);
    expect(toAmavis, mailLog.slice(-3000)).not.toBeNull();
    expect(mailLog).toMatch(new RegExp(`amavis\\[\\d+\\]: .*Passed CLEAN.*Queue-ID: ${queueId}`));
    expect(mailLog).toMatch(new RegExp(`${toAmavis![1]}: to=<${SECOND}>, relay=.*status=sent`));
  });
});
