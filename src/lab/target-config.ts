/**
 * Writes .lab/target.yaml: a config (src/config/schema.ts) with the default target `lab` pointing at the
 * running lab. Secrets are `{ file: ... }` references relative to .lab/ (the config file's folder).
 */
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { shippedRoutes } from '../alerts/shipped-routes.js';
import { ensurePassword, ensureSshKey, MATERIAL_FILES, writeSecret, type LabMaterial } from './material.js';
import { CONTAINERS, NAMES, type LabPaths, type LabSettings } from './settings.js';

export const RELAY_LOG = '/var/log/smtp-relay/relay.log';
export const RELAY_ERROR_LOG = '/var/log/smtp-relay/relay.err.log';
/** The lab's one approver; it signs with MATERIAL_FILES.labApproverKey. */
export const LAB_APPROVER = 'lab-admin';
/** Where the lab config's Alertmanager receiver listens (npm start checks it is free before the lab is up). */
export const LAB_RECEIVER_LISTEN = { host: '127.0.0.1', port: 9095 } as const;

export function targetConfig(
  settings: LabSettings,
  material: Pick<LabMaterial, 'relayHostKeyFingerprint'>,
  approverPublicKey: string,
): object {
  const ca = { file: MATERIAL_FILES.caCert };
  return {
    version: 1,
    defaultTarget: 'lab',
    targets: [
      {
        name: 'lab',
        mailServer: {
          kind: 'dms',
          docker: {
            engine: { type: 'socket', socketPath: '/var/run/docker.sock' },
            container: CONTAINERS.mailserver,
          },
          mailLog: '/var/log/mail/mail.log',
          relayClient: {
            keyPath: '/home/cloudrelay/.ssh/id_rsa',
            keyOwner: 'root',
            sshConfig: '/home/cloudrelay/.ssh/config',
            hostAlias: 'cloudrelay',
          },
          // The map relayRoutingCheck checks is in effect (the relaymap-ineffective fault unhooks it).
          relayMapFiles: ['/etc/postfix/relayhost_map'],
        },
        relay: {
          flavour: 'linux',
          ssh: {
            host: '127.0.0.1',
            port: settings.ports.relaySsh,
            user: NAMES.relayAdmin,
            privateKey: { file: MATERIAL_FILES.relayAdminKey },
            hostKey: material.relayHostKeyFingerprint,
          },
          port: NAMES.relayPort,
          // The mail server's login at the relay, as the secret store has it (queueBacklog re-syncs it).
          sasl: { user: NAMES.relaySaslUser, password: { file: MATERIAL_FILES.relaySaslVault } },
          service: { manager: 'supervisor', name: 'smtp-relay' },
          logs: { log: RELAY_LOG, errorLog: RELAY_ERROR_LOG },
        },
        canary: {
          submission: {
            host: '127.0.0.1',
            port: settings.ports.submission,
            tls: 'starttls',
            ca,
            servername: NAMES.mailHost,
            user: NAMES.canaryUser,
            password: { file: MATERIAL_FILES.canaryPassword },
          },
          from: NAMES.canaryUser,
          to: NAMES.destUser,
          expectRelay: NAMES.relayHost,
          imap: {
            host: '127.0.0.1',
            port: settings.ports.destImaps,
            tls: 'implicit',
            ca,
            servername: NAMES.destHost,
            user: NAMES.destUser,
            password: { file: MATERIAL_FILES.destPassword },
            mailbox: 'INBOX',
          },
        },
        thresholds: {
          queueDrainBelow: 5,
          drainTimeoutSeconds: 600,
          deliveryTimeoutSeconds: 120,
          logTailLines: 50,
        },
        // Unsigned decisions (a Signal typed in the Temporal UI) count on the lab, recorded as unsigned;
        // `approve --by lab-admin --key .lab/secrets/lab_admin_ed25519` signs.
        approval: {
          timeoutSeconds: 3600,
          reminderAfterSeconds: 900,
          onTimeout: 'abort',
          unattended: [],
          allowUnsigned: true,
        },
        // openRelayAudit's live probe: unauthenticated MAIL FROM/RCPT TO on the published port 25, no DATA.
        audit: { smtpPort: settings.ports.smtp },
        // smtpPathDiagnosis asks the lab's own DNS (dnsmasq in the destination container, on 127.0.0.1).
        diagnosis: { dnsServers: [`127.0.0.1:${settings.ports.dns}`], dkimSelectors: ['mail'] },
      },
    ],
    approvers: { [LAB_APPROVER]: { publicKeys: [approverPublicKey] } },
    // The receiver `npm start` runs; one route per alert of monitoring/prometheus-rules.yml.
    alerts: {
      listen: { ...LAB_RECEIVER_LISTEN },
      auth: { bearerToken: { file: MATERIAL_FILES.receiverToken } },
      routes: shippedRoutes(),
    },
    schedules: [
      {
        name: 'nightly-e2e',
        runbook: 'endToEndVerification',
        cron: '30 2 * * *',
        timezone: 'UTC',
        jitterSeconds: 300,
        targets: ['lab'],
      },
      {
        name: 'nightly-status',
        runbook: 'statusCheck',
        cron: '15 2 * * *',
        timezone: 'UTC',
        jitterSeconds: 300,
        targets: ['lab'],
      },
    ],
  };
}

export async function writeTargetConfig(
  paths: LabPaths,
  settings: LabSettings,
  material: Pick<LabMaterial, 'relayHostKeyFingerprint'>,
): Promise<string> {
  await ensurePassword(paths.dir, MATERIAL_FILES.receiverToken);
  const approverKey = await ensureSshKey(
    paths.dir,
    MATERIAL_FILES.labApproverKey,
    'ed25519',
    `${LAB_APPROVER} approvals (lab)`,
  );
  // The secret store starts in step with the mail server (the relay-auth fault rotates it).
  const vault = join(paths.dir, MATERIAL_FILES.relaySaslVault);
  if (
    !(await access(vault).then(
      () => true,
      () => false,
    ))
  )
    await writeSecret(vault, await readFile(join(paths.dir, MATERIAL_FILES.relaySaslPassword), 'utf8'));
  const header = [
    '# Written by `npm run lab -- up` for the local mail lab; regenerated on every up (do not edit).',
    '# Secret references are relative to this folder (.lab/); the files are mode 0600.',
    '',
  ].join('\n');
  await writeFile(
    paths.config,
    header + stringify(targetConfig(settings, material, approverKey.public), { lineWidth: 0 }),
    {
      mode: 0o600,
    },
  );
  return paths.config;
}
