/**
 * The lab's fixed shape (names, domains, container roles) and its few settings (host ports, image for the
 * mail server), persisted in .lab/lab.json so that `up`, `status`, `fault` and `down` agree.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { PortWant } from '../preflight/problems.js';

export const LAB_LABEL = 'org.mail-runbooks.lab';
export const NETWORK = 'mrb-lab';

/** DNS names inside the lab network (network aliases) and mail domains. */
export const NAMES = {
  mailHost: 'mail.lab.test',
  mailDomain: 'lab.test',
  relayHost: 'relay.lab.test',
  destHost: 'dest.lab.test',
  destDomain: 'dest.test',
  canaryUser: 'canary@lab.test',
  destUser: 'canary@dest.test',
  floodSender: 'flood@lab.test',
  floodRecipient: 'flood@dest.test',
  relaySaslUser: 'lab-mailserver',
  relayAdmin: 'relayadmin',
  relayPort: 2526,
} as const;

export type Role = 'mailserver' | 'relay' | 'dest';
export const ROLES: readonly Role[] = ['dest', 'relay', 'mailserver'];

export const CONTAINERS: Record<Role, string> = {
  mailserver: 'mrb-lab-mailserver',
  relay: 'mrb-lab-relay',
  dest: 'mrb-lab-dest',
};

/** Host ports, all published on 127.0.0.1 only. */
export interface LabPorts {
  /** mail server port 25 (used by the open-relay probe) */
  smtp: number;
  /** mail server submission, STARTTLS */
  submission: number;
  /** mail server submissions (465), implicit TLS */
  submissions: number;
  /** mail server IMAPS (canary mailbox canary@lab.test) */
  imaps: number;
  /** relay host sshd */
  relaySsh: number;
  /** destination IMAPS (canary@dest.test) */
  destImaps: number;
  /** the lab's DNS (lab.test and dest.test records), UDP and TCP */
  dns: number;
  /** the mail server's postfix exporter (Debian's prometheus-postfix-exporter, 9154) */
  postfixExporter: number;
  /** the blackbox exporter in the mail server's network: SMTP probes of the relay and amavis (9115) */
  smtpProbes: number;
}

export const DEFAULT_PORTS: LabPorts = {
  smtp: 12525,
  submission: 10587,
  submissions: 10465,
  imaps: 10993,
  relaySsh: 10022,
  destImaps: 11993,
  dns: 10053,
  postfixExporter: 19154,
  smtpProbes: 19115,
};

const PORT_ROLES: Record<keyof LabPorts, string> = {
  smtp: "the mail server's SMTP (25)",
  submission: "the mail server's submission (587)",
  submissions: "the mail server's submissions (465)",
  imaps: "the mail server's IMAPS (993)",
  relaySsh: "the relay host's sshd (22)",
  destImaps: "the destination's IMAPS (993)",
  dns: "the lab's DNS (53)",
  postfixExporter: "the mail server's postfix exporter (9154)",
  smtpProbes: "the mail server's SMTP probes, a blackbox exporter (9115)",
};

/**
 * The host ports the lab is about to publish and that must be free: all but those its own running
 * containers already publish (a lab that is up holds its ports, and `up` keeps it).
 */
export function labPortWants(ports: LabPorts, publishedByLab: ReadonlySet<number>): PortWant[] {
  return (Object.keys(ports) as (keyof LabPorts)[])
    .filter((name) => !publishedByLab.has(ports[name]))
    .map((name) => ({
      host: '127.0.0.1',
      port: ports[name],
      wantedBy: `the lab (${name}: ${PORT_ROLES[name]})`,
      override: `give the lab another port: \`npm run lab -- up --port ${name}=<port>\` (kept in .lab/lab.json) or MRB_LAB_PORTS=${name}=<port>`,
    }));
}

export interface LabSettings {
  ports: LabPorts;
  /** A docker-mailserver image to use for the mail server instead of the lab's own image. */
  dmsImage?: string;
  /** Set when the lab's own DMS-like image was chosen (MRB_LAB_MAILSERVER=lab), so later `up`s keep it. */
  mailserver?: 'lab';
}

export type MailserverChoice = 'lab' | 'dms';

/**
 * MRB_LAB_MAILSERVER: `dms` runs the real docker-mailserver built here from the vendored release, `lab` the
 * lab's own DMS-like image; unset keeps what .lab/lab.json remembers (see `rememberedMailserver`).
 */
export function mailserverChoice(env: NodeJS.ProcessEnv = process.env): MailserverChoice | undefined {
  const value = env.MRB_LAB_MAILSERVER?.trim();
  if (!value) return undefined;
  if (value === 'lab' || value === 'dms') return value;
  throw new Error(`MRB_LAB_MAILSERVER=${value}: use 'dms' (real docker-mailserver) or 'lab' (the lab image)`);
}

/**
 * The mail server a `lab up` without MRB_LAB_MAILSERVER or --dms-image runs: the lab image when it was chosen
 * before, an image once given with --dms-image (undefined: keep `saved.dmsImage`), and otherwise the real
 * docker-mailserver, the default.
 */
export function rememberedMailserver(saved: LabSettings, dmsLabImage: string): MailserverChoice | undefined {
  if (saved.mailserver === 'lab') return 'lab';
  if (saved.dmsImage === undefined || saved.dmsImage === dmsLabImage) return 'dms';
  return undefined;
}

export interface LabPaths {
  root: string;
  dir: string;
  secrets: string;
  ca: string;
  config: string;
  settings: string;
}

export function labPaths(root = process.cwd()): LabPaths {
  const dir = resolve(root, '.lab');
  return {
    root: resolve(root),
    dir,
    secrets: join(dir, 'secrets'),
    ca: join(dir, 'ca'),
    config: join(dir, 'target.yaml'),
    settings: join(dir, 'lab.json'),
  };
}

/** Parses "name=port,name=port" (or repeated --port name=port) into port overrides. */
export function parsePorts(specs: readonly string[]): Partial<LabPorts> {
  const out: Partial<LabPorts> = {};
  for (const spec of specs.flatMap((s) => s.split(',')).filter(Boolean)) {
    const m = /^([a-zA-Z]+)=(\d{1,5})$/.exec(spec.trim());
    if (!m || !(m[1]! in DEFAULT_PORTS)) {
      throw new Error(
        `bad port setting '${spec}': use NAME=PORT with NAME one of ${Object.keys(DEFAULT_PORTS).join(', ')}`,
      );
    }
    const port = Number(m[2]);
    if (port < 1024 || port > 65535) throw new Error(`port ${port} for ${m[1]}: choose 1024..65535`);
    out[m[1] as keyof LabPorts] = port;
  }
  return out;
}

export async function loadSettings(paths: LabPaths): Promise<LabSettings> {
  try {
    const saved = JSON.parse(await readFile(paths.settings, 'utf8')) as Partial<LabSettings>;
    return {
      ports: { ...DEFAULT_PORTS, ...saved.ports },
      ...(saved.dmsImage ? { dmsImage: saved.dmsImage } : {}),
      ...(saved.mailserver === 'lab' && !saved.dmsImage ? { mailserver: 'lab' as const } : {}),
    };
  } catch {
    return { ports: { ...DEFAULT_PORTS } };
  }
}

export async function saveSettings(paths: LabPaths, settings: LabSettings): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await writeFile(paths.settings, JSON.stringify(settings, null, 2) + '\n');
}
