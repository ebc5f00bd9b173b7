/**
 * The lab's secrets and certificates, generated on the first `up` and reused afterwards:
 *   .lab/secrets/  passwords and SSH keys (mode 0600)
 *   .lab/ca/       the lab CA and one server certificate per host (openssl; keys 0600)
 * Nothing here is a real credential; still, none of it is ever printed, and the target config only
 * references these files.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateSshKeyPair } from '../transports/ssh-keygen.js';
import { NAMES, type LabPaths } from './settings.js';

const run = promisify(execFile);

export interface ServerCert {
  cert: string;
  key: string;
}

export interface LabMaterial {
  canaryPassword: string;
  destPassword: string;
  relaySaslPassword: string;
  relayAdminKey: { private: string; public: string };
  cloudrelayKey: { private: string; public: string };
  relayHostKey: { private: string; public: string };
  /** "SHA256:..." of the relay's host key, as OpenSSH prints it. */
  relayHostKeyFingerprint: string;
  caCert: string;
  certs: { mail: ServerCert; relay: ServerCert; dest: ServerCert };
  /** Digest of everything above: containers are recreated when it changes. */
  digest: string;
}

/** Where each piece lives (relative to .lab/, for the target config). */
export const MATERIAL_FILES = {
  canaryPassword: 'secrets/canary_password',
  destPassword: 'secrets/dest_password',
  relaySaslPassword: 'secrets/relay_sasl_password',
  /**
   * The lab's secret store entry for that login (the target config's relay.sasl.password): the password
   * the relay expects. The relay-auth fault rotates it; not part of the containers' digest.
   */
  relaySaslVault: 'secrets/relay_sasl_vault',
  relayAdminKey: 'secrets/relay_admin_ed25519',
  cloudrelayKey: 'secrets/cloudrelay_id_rsa',
  relayHostKey: 'secrets/relay_host_ed25519',
  /** Bearer token Alertmanager (and `npm start`'s receiver) use; not part of the containers' digest. */
  receiverToken: 'secrets/receiver_token',
  /**
   * The lab approver's signing key (`approve --key .lab/secrets/lab_admin_ed25519`); its public half is in
   * the target config. Not part of the containers' digest.
   */
  labApproverKey: 'secrets/lab_admin_ed25519',
  caCert: 'ca/ca.crt',
  caKey: 'ca/ca.key',
} as const;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function writeSecret(path: string, content: string): Promise<void> {
  await writeFile(path, content, { mode: 0o600 });
  await chmod(path, 0o600);
}

export async function ensurePassword(dir: string, rel: string): Promise<string> {
  const path = join(dir, rel);
  if (!(await exists(path))) await writeSecret(path, randomBytes(18).toString('base64url') + '\n');
  await chmod(path, 0o600);
  return (await readFile(path, 'utf8')).trim();
}

export async function ensureSshKey(
  dir: string,
  rel: string,
  type: 'ed25519' | 'rsa',
  comment: string,
): Promise<{ private: string; public: string }> {
  const path = join(dir, rel);
  if (!(await exists(path)) || !(await exists(`${path}.pub`))) {
    const pair =
      type === 'rsa'
        ? generateSshKeyPair('rsa', { comment, bits: 3072 })
        : generateSshKeyPair(type, { comment });
    await writeSecret(path, pair.private.endsWith('\n') ? pair.private : `${pair.private}\n`);
    await writeSecret(`${path}.pub`, `${pair.public.trim()}\n`);
  }
  await chmod(path, 0o600);
  await chmod(`${path}.pub`, 0o600);
  return { private: await readFile(path, 'utf8'), public: (await readFile(`${path}.pub`, 'utf8')).trim() };
}

/** OpenSSH's SHA256 fingerprint of a public key line ("ssh-ed25519 AAAA... comment"). */
export function sshFingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.trim().split(/\s+/)[1] ?? '', 'base64');
  if (blob.length === 0) throw new Error('not an OpenSSH public key line');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Dovecot's {SSHA512} scheme: base64(sha512(password + salt) + salt). */
export function ssha512(
  password: string,
  salt = createHash('sha256').update(`mrb-lab salt:${password}`).digest().subarray(0, 8),
): string {
  const digest = createHash('sha512')
    .update(Buffer.concat([Buffer.from(password, 'utf8'), salt]))
    .digest();
  return `{SSHA512}${Buffer.concat([digest, salt]).toString('base64')}`;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd, timeout: 60_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error("'openssl' is not installed (Debian: apt-get install openssl)");
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

/** Still valid a month from now: renewed well before it could expire under a running lab. */
function validForAMonth(cert: X509Certificate): boolean {
  return new Date(cert.validTo).getTime() > Date.now() + 30 * 86_400_000;
}

/** `openssl req` arguments for a new unencrypted P-256 key in `keyout`, and what it makes in `out`. */
function newEcKey(keyout: string, out: string): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyout, '-out', out];
}

async function ensureCa(caDir: string, log: (l: string) => void): Promise<boolean> {
  const crt = join(caDir, 'ca.crt');
  const key = join(caDir, 'ca.key');
  if ((await exists(crt)) && (await exists(key))) {
    if (validForAMonth(new X509Certificate(await readFile(crt)))) return false;
  }
  log('lab: creating the lab CA (.lab/ca/ca.crt)');
  await openssl(
    [
      'req',
      '-x509',
      '-new',
      ...newEcKey('ca.key', 'ca.crt'),
      '-days',
      '3650',
      '-subj',
      '/O=mail-runbooks lab/CN=mail-runbooks lab CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-addext',
      'subjectKeyIdentifier=hash',
    ],
    caDir,
  );
  await chmod(key, 0o600);
  return true;
}

async function ensureServerCert(
  caDir: string,
  name: string,
  sans: string[],
  force: boolean,
  log: (l: string) => void,
): Promise<ServerCert> {
  const crt = join(caDir, `${name}.crt`);
  const key = join(caDir, `${name}.key`);
  let ok = !force && (await exists(crt)) && (await exists(key));
  if (ok) {
    const cert = new X509Certificate(await readFile(crt));
    const ca = new X509Certificate(await readFile(join(caDir, 'ca.crt')));
    const wanted = sans
      .map((s) => (s.startsWith('IP:') ? `IP Address:${s.slice(3)}` : s))
      .sort()
      .join(', ');
    const have = (cert.subjectAltName ?? '').split(', ').sort().join(', ');
    ok = cert.checkIssued(ca) && cert.verify(ca.publicKey) && have === wanted && validForAMonth(cert);
  }
  if (!ok) {
    log(`lab: issuing a certificate for ${sans[0]?.replace(/^DNS:/, '')} (.lab/ca/${name}.crt)`);
    const ext = join(caDir, `${name}.ext`);
    await writeFile(
      ext,
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=${sans.join(',')}`,
        'authorityKeyIdentifier=keyid',
        'subjectKeyIdentifier=hash',
      ].join('\n') + '\n',
    );
    const cn = sans[0]!.replace(/^DNS:/, '');
    await openssl(
      ['req', '-new', ...newEcKey(`${name}.key`, `${name}.csr`), '-subj', `/O=mail-runbooks lab/CN=${cn}`],
      caDir,
    );
    await chmod(key, 0o600);
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-set_serial',
        `0x${randomBytes(12).toString('hex')}`,
        '-days',
        '825',
        '-sha256',
        '-extfile',
        `${name}.ext`,
        '-out',
        `${name}.crt`,
      ],
      caDir,
    );
    await rm(join(caDir, `${name}.csr`), { force: true });
    await rm(ext, { force: true });
  }
  return { cert: await readFile(crt, 'utf8'), key: await readFile(key, 'utf8') };
}

/** Creates what is missing under .lab/ and returns all of it. Idempotent; safe to run on every `up`. */
export async function ensureMaterial(paths: LabPaths, log: (l: string) => void): Promise<LabMaterial> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await mkdir(paths.secrets, { recursive: true, mode: 0o700 });
  await mkdir(paths.ca, { recursive: true, mode: 0o700 });
  await chmod(paths.secrets, 0o700);
  await chmod(paths.ca, 0o700);
  const d = paths.dir;
  const canaryPassword = await ensurePassword(d, MATERIAL_FILES.canaryPassword);
  const destPassword = await ensurePassword(d, MATERIAL_FILES.destPassword);
  const relaySaslPassword = await ensurePassword(d, MATERIAL_FILES.relaySaslPassword);
  const relayAdminKey = await ensureSshKey(
    d,
    MATERIAL_FILES.relayAdminKey,
    'ed25519',
    'mail-runbooks relay admin (lab)',
  );
  const cloudrelayKey = await ensureSshKey(
    d,
    MATERIAL_FILES.cloudrelayKey,
    'rsa',
    'cloudrelay@mail.lab.test (lab)',
  );
  const relayHostKey = await ensureSshKey(
    d,
    MATERIAL_FILES.relayHostKey,
    'ed25519',
    'relay.lab.test host key (lab)',
  );
  const newCa = await ensureCa(paths.ca, log);
  const local = ['DNS:localhost', 'IP:127.0.0.1'];
  const certs = {
    mail: await ensureServerCert(
      paths.ca,
      'mail',
      [`DNS:${NAMES.mailHost}`, `DNS:${NAMES.mailDomain}`, ...local],
      newCa,
      log,
    ),
    relay: await ensureServerCert(paths.ca, 'relay', [`DNS:${NAMES.relayHost}`, ...local], newCa, log),
    dest: await ensureServerCert(
      paths.ca,
      'dest',
      [`DNS:${NAMES.destHost}`, `DNS:${NAMES.destDomain}`, ...local],
      newCa,
      log,
    ),
  };
  const caCert = await readFile(join(paths.ca, 'ca.crt'), 'utf8');
  // What the containers are made from; the digest hashes these values in this order (unchanged, so an
  // existing lab is not recreated).
  const parts = {
    canaryPassword,
    destPassword,
    relaySaslPassword,
    relayAdminKey,
    cloudrelayKey,
    relayHostKey,
    caCert,
    certs,
  };
  const digest = createHash('sha256')
    .update(JSON.stringify(Object.values(parts)))
    .digest('hex');
  return { ...parts, relayHostKeyFingerprint: sshFingerprint(relayHostKey.public), digest };
}
