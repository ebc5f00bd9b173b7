/**
 * What each lab container is: image, environment, published ports (127.0.0.1 only), network aliases, and
 * the files placed into it before it starts (secrets, certificates, keys: put through the engine's archive
 * API, never baked into an image or passed as environment).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { ssha512, type LabMaterial } from './material.js';
import { CONTAINERS, LAB_LABEL, NAMES, NETWORK, type LabSettings, type Role } from './settings.js';
import type { TarEntry } from './tar.js';

export const ROLE_LABEL = 'org.mail-runbooks.lab.role';
export const SPEC_LABEL = 'org.mail-runbooks.lab.spec';
export const KIND_LABEL = 'org.mail-runbooks.lab.kind';

export interface ContainerSpec {
  role: Role;
  name: string;
  /** lab: our image (lab-healthcheck available); dms: a docker-mailserver image. */
  kind: 'lab' | 'dms';
  create: Docker.ContainerCreateOptions;
  files: TarEntry[];
}

const SECOND = 1_000_000_000;

/** Container port -> host port, on 127.0.0.1 only; a key like "53/udp" names the protocol (default tcp). */
function ports(map: Record<string, number>): Pick<Docker.ContainerCreateOptions, 'ExposedPorts'> & {
  PortBindings: Docker.PortMap;
} {
  const exposed: Record<string, object> = {};
  const bindings: Docker.PortMap = {};
  for (const [inside, host] of Object.entries(map)) {
    const key = inside.includes('/') ? inside : `${inside}/tcp`;
    exposed[key] = {};
    bindings[key] = [{ HostIp: '127.0.0.1', HostPort: String(host) }];
  }
  return { ExposedPorts: exposed, PortBindings: bindings };
}

const dir = (path: string, mode = 0o755): TarEntry => ({ path, mode });
const file = (path: string, content: string, mode = 0o644): TarEntry => ({ path, content, mode });

function tlsFiles(cert: { cert: string; key: string }): TarEntry[] {
  return [
    dir('etc/dms'),
    dir('etc/dms/tls'),
    file('etc/dms/tls/cert.pem', cert.cert),
    file('etc/dms/tls/key.pem', cert.key, 0o600),
  ];
}

function base(
  network: LabNetwork,
  role: Role,
  image: string,
  hostname: string,
  env: string[],
  published: Record<string, number>,
  healthTest: string[],
): Docker.ContainerCreateOptions {
  const [short, ...domain] = hostname.split('.');
  const { ExposedPorts, PortBindings } = ports(published);
  return {
    name: CONTAINERS[role],
    Image: image,
    Hostname: short,
    Domainname: domain.join('.'),
    Env: env,
    Labels: { [LAB_LABEL]: '1', [ROLE_LABEL]: role },
    ExposedPorts,
    Healthcheck: {
      Test: healthTest,
      Interval: 30 * SECOND,
      Timeout: 8 * SECOND,
      StartPeriod: 120 * SECOND,
      Retries: 2,
    },
    HostConfig: {
      NetworkMode: NETWORK,
      PortBindings,
      // Names of lab hosts resolve through Docker's embedded DNS; anything else is sent to a resolver that
      // does not exist, so nothing (an MX lookup after a routing fault, say) leaves the machine.
      // Short resolver timeouts keep such failed lookups from stalling Postfix for 20 s.
      Dns: ['127.0.0.1'],
      DnsSearch: [],
      DnsOptions: ['timeout:2', 'attempts:1'],
      // Connections to published ports arrive from the network's gateway: give it a name in /etc/hosts so
      // Postfix's reverse lookup of that client is answered at once instead of timing out.
      ExtraHosts: [`gateway.lab.test:${network.gateway}`],
      RestartPolicy: { Name: 'no' },
      Init: false,
      Memory: 1024 * 1024 * 1024,
    },
    NetworkingConfig: { EndpointsConfig: { [NETWORK]: { Aliases: [hostname, role] } } },
  };
}

/**
 * DMS's own override file (/tmp/docker-mailserver/postfix-main.cf, appended to main.cf at start) with the
 * lab-only setting the lab image has in its main.cf: Postfix waits 300 s for a silent server's greeting,
 * 20 s lets the relay-hung symptom show within a test.
 */
export const DMS_POSTFIX_MAIN_OVERRIDES = '# lab: see src/lab/containers.ts\nsmtp_helo_timeout = 20s\n';

/** The shipped probe modules (smtp_banner), run as they are by the mail server's blackbox exporter. */
const BLACKBOX_MODULES = fileURLToPath(new URL('../../monitoring/blackbox.yml', import.meta.url));

export interface LabNetwork {
  subnet: string;
  gateway: string;
}

export function containerSpecs(
  network: LabNetwork,
  settings: LabSettings,
  images: { mail: string; relay: string },
  material: LabMaterial,
): ContainerSpec[] {
  const p = settings.ports;
  const relayNexthop = `[${NAMES.relayHost}]:${NAMES.relayPort}`;
  const saslLine = `${NAMES.relaySaslUser}:${material.relaySaslPassword}`;
  const dms = settings.dmsImage !== undefined;
  const labHealth = ['CMD', '/usr/local/bin/lab-healthcheck'];

  const mailserverEnv = [
    'LAB_ROLE=mailserver',
    `OVERRIDE_HOSTNAME=${NAMES.mailHost}`,
    'PERMIT_DOCKER=none',
    `RELAY_HOST=${NAMES.relayHost}`,
    `RELAY_PORT=${NAMES.relayPort}`,
    // docker-mailserver's own settings (ignored by the lab image): amavis on, scanners and extras off.
    'ENABLE_AMAVIS=1',
    'ENABLE_CLAMAV=0',
    'ENABLE_SPAMASSASSIN=0',
    'ENABLE_RSPAMD=0',
    'ENABLE_OPENDKIM=0',
    'ENABLE_OPENDMARC=0',
    'ENABLE_POLICYD_SPF=0',
    'ENABLE_FAIL2BAN=0',
    'ENABLE_POSTGREY=0',
    'SSL_TYPE=manual',
    'SSL_CERT_PATH=/etc/dms/tls/cert.pem',
    'SSL_KEY_PATH=/etc/dms/tls/key.pem',
    'LOG_LEVEL=info',
    // Real docker-mailserver only (not added for the lab image, so its containers' specs stay as they were):
    // the update check calls GitHub.
    ...(dms ? ['ENABLE_UPDATE_CHECK=0'] : []),
  ];
  const sshConfig = [
    '# How the seed runbook reaches the relay from inside the mail server container (lab).',
    'Host cloudrelay',
    `  HostName ${NAMES.relayHost}`,
    '  Port 22',
    `  User ${NAMES.relayAdmin}`,
    '  IdentityFile /home/cloudrelay/.ssh/id_rsa',
    '  IdentitiesOnly yes',
    '  StrictHostKeyChecking yes',
    '  UserKnownHostsFile /home/cloudrelay/.ssh/known_hosts',
    '  GlobalKnownHostsFile /dev/null',
    '  BatchMode yes',
    '  ConnectTimeout 10',
    '',
  ].join('\n');
  const [keyType, keyBlob] = material.relayHostKey.public.split(/\s+/);
  const mailserver: ContainerSpec = {
    role: 'mailserver',
    name: CONTAINERS.mailserver,
    kind: dms ? 'dms' : 'lab',
    create: base(
      network,
      'mailserver',
      settings.dmsImage ?? images.mail,
      NAMES.mailHost,
      mailserverEnv,
      {
        25: p.smtp,
        587: p.submission,
        465: p.submissions,
        993: p.imaps,
        // Debian's exporters in the container (lab/images/mail/rootfs/etc/supervisor/conf.d/lab-exporters.conf)
        9154: p.postfixExporter,
        9115: p.smtpProbes,
      },
      dms ? ['CMD-SHELL', "ss --listening --tcp | grep --silent ':smtp'"] : labHealth,
    ),
    files: [
      dir('tmp/docker-mailserver'),
      file(
        'tmp/docker-mailserver/postfix-accounts.cf',
        `${NAMES.canaryUser}|${ssha512(material.canaryPassword)}\n`,
        0o600,
      ),
      file(
        'tmp/docker-mailserver/postfix-sasl-password.cf',
        `${relayNexthop} ${saslLine}\n@${NAMES.mailDomain} ${saslLine}\n`,
        0o600,
      ),
      ...(dms ? [file('tmp/docker-mailserver/postfix-main.cf', DMS_POSTFIX_MAIN_OVERRIDES)] : []),
      dir('etc/lab'),
      file('etc/lab/blackbox.yml', readFileSync(BLACKBOX_MODULES, 'utf8')),
      ...tlsFiles(material.certs.mail),
      dir('home/cloudrelay'),
      dir('home/cloudrelay/.ssh', 0o700),
      file('home/cloudrelay/.ssh/id_rsa', material.cloudrelayKey.private, 0o600),
      file('home/cloudrelay/.ssh/id_rsa.pub', `${material.cloudrelayKey.public}\n`),
      file('home/cloudrelay/.ssh/config', sshConfig),
      file('home/cloudrelay/.ssh/known_hosts', `${NAMES.relayHost} ${keyType} ${keyBlob}\n`),
    ],
  };

  const relay: ContainerSpec = {
    role: 'relay',
    name: CONTAINERS.relay,
    kind: 'lab',
    create: base(
      network,
      'relay',
      images.relay,
      NAMES.relayHost,
      [`OVERRIDE_HOSTNAME=${NAMES.relayHost}`, `RELAY_FORWARD_TO=${NAMES.destHost}`],
      { 22: p.relaySsh },
      labHealth,
    ),
    files: [
      file('etc/ssh/ssh_host_ed25519_key', material.relayHostKey.private, 0o600),
      file('etc/ssh/ssh_host_ed25519_key.pub', `${material.relayHostKey.public}\n`),
      dir('etc/lab/relay', 0o700),
      file(
        'etc/lab/relay/authorized_keys',
        `${material.relayAdminKey.public}\n${material.cloudrelayKey.public}\n`,
        0o600,
      ),
      file(
        'etc/lab/relay/sasl-users',
        `${NAMES.relaySaslUser}:${ssha512(material.relaySaslPassword)}\n`,
        0o600,
      ),
      ...tlsFiles(material.certs.relay),
    ],
  };

  const dest: ContainerSpec = {
    role: 'dest',
    name: CONTAINERS.dest,
    kind: 'lab',
    create: base(
      network,
      'dest',
      images.mail,
      NAMES.destHost,
      ['LAB_ROLE=dest', `OVERRIDE_HOSTNAME=${NAMES.destHost}`, `LAB_DISCARD=${NAMES.floodRecipient}`],
      { 993: p.destImaps, '53/tcp': p.dns, '53/udp': p.dns },
      labHealth,
    ),
    files: [
      dir('tmp/docker-mailserver'),
      file(
        'tmp/docker-mailserver/postfix-accounts.cf',
        `${NAMES.destUser}|${ssha512(material.destPassword)}\n`,
        0o600,
      ),
      ...tlsFiles(material.certs.dest),
    ],
  };
  return [dest, relay, mailserver];
}

/** Identity of a spec: what it runs (image id), how, and with which material. */
export function specHash(spec: ContainerSpec, imageId: string, materialDigest: string): string {
  return createHash('sha256')
    .update(
      JSON.stringify({
        create: spec.create,
        files: spec.files.map((f) => [f.path, f.mode]),
        imageId,
        materialDigest,
      }),
    )
    .digest('hex')
    .slice(0, 16);
}
