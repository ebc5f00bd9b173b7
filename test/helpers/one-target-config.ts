/**
 * A config with one docker-mailserver target behind a Linux relay, for unit tests and benches that reach
 * only the parts they name (the mail server's commands, through a fake or a bench container). Everything
 * else is the schema's required shape: loopback addresses, ports nothing answers on unless given, and every
 * secret an environment variable holding a placeholder.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface OneTargetConfig {
  /** The config's folder; the file is `<dir>/<file>`. */
  dir: string;
  file?: string;
  /** The target's name, and the mail domain of its canary (`u@<domain>`, relay `relay.<domain>`). */
  name: string;
  domain: string;
  dockerSocket: string;
  container: string;
  mailLog?: string;
  /** The environment variable every secret is read from; set to a placeholder here. */
  secretEnv: string;
  /** Loopback ports of the relay's SSH and SMTP, the canary's submission and IMAP (defaults 22, 2526, 587, 993). */
  ports?: { ssh?: number; relay?: number; submission?: number; imap?: number };
}

/** Writes the config and returns its path. */
export async function writeOneTargetConfig(options: OneTargetConfig): Promise<string> {
  const { name, domain, secretEnv } = options;
  const ports = { ssh: 22, relay: 2526, submission: 587, imap: 993, ...options.ports };
  process.env[secretEnv] = 'unused';
  const path = join(options.dir, options.file ?? 'config.yaml');
  await writeFile(
    path,
    `version: 1
defaultTarget: ${name}
targets:
  - name: ${name}
    mailServer:
      kind: dms
      docker:
        engine: { type: socket, socketPath: ${options.dockerSocket} }
        container: ${options.container}
      mailLog: ${options.mailLog ?? '/var/log/mail/mail.log'}
    relay:
      flavour: linux
      ssh: { host: 127.0.0.1, port: ${ports.ssh}, user: unused, privateKey: { env: ${secretEnv} }, hostKey: 'SHA256:nfqsTI/LbW+/V/ownkD8ZegOqiizNvAJIiJokEwNXd4' }
      port: ${ports.relay}
      service: { manager: supervisor, name: smtp-relay }
      logs: { log: /var/log/smtp-relay/relay.log }
    canary:
      submission: { host: 127.0.0.1, port: ${ports.submission}, tls: starttls, user: u@${domain}, password: { env: ${secretEnv} } }
      from: u@${domain}
      to: u@${domain}
      expectRelay: relay.${domain}
      imap: { host: 127.0.0.1, port: ${ports.imap}, tls: implicit, user: u@${domain}, password: { env: ${secretEnv} } }
    thresholds: { queueDrainBelow: 5, drainTimeoutSeconds: 600, deliveryTimeoutSeconds: 120, logTailLines: 50 }
`,
  );
  return path;
}
