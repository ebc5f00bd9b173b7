/**
 * Opting the lab into the real docker-mailserver (MRB_LAB_MAILSERVER=dms): the choice is parsed strictly,
 * the DMS container gets DMS's own settings (no update check; the lab's Postfix override in DMS's
 * postfix-main.cf), and the lab image's container spec stays exactly as it was (no needless recreation).
 */
import { describe, expect, it } from 'vitest';
import { containerSpecs, DMS_POSTFIX_MAIN_OVERRIDES } from '../../src/lab/containers.js';
import type { LabMaterial } from '../../src/lab/material.js';
import { DEFAULT_PORTS, mailserverChoice, rememberedMailserver } from '../../src/lab/settings.js';

const cert = { cert: 'CERT', key: 'KEY' };
const material: LabMaterial = {
  canaryPassword: 'c',
  destPassword: 'd',
  relaySaslPassword: 'r',
  relayAdminKey: { private: 'p', public: 'ssh-ed25519 AAAA admin' },
  cloudrelayKey: { private: 'p', public: 'ssh-rsa AAAA cloudrelay' },
  relayHostKey: { private: 'p', public: 'ssh-ed25519 AAAA host' },
  relayHostKeyFingerprint: 'SHA256:x',
  caCert: 'CA',
  certs: { mail: cert, relay: cert, dest: cert },
  digest: 'digest',
};
const network = { subnet: '172.30.0.0/16', gateway: '172.30.0.1' };
const images = { mail: 'mrb-lab/mail:latest', relay: 'mrb-lab/relay:latest' };

function mailserver(dmsImage?: string) {
  const specs = containerSpecs(
    network,
    { ports: DEFAULT_PORTS, ...(dmsImage ? { dmsImage } : {}) },
    images,
    material,
  );
  return specs.find((s) => s.role === 'mailserver')!;
}

describe('mailserverChoice', () => {
  it('reads dms or lab, and nothing else', () => {
    expect(mailserverChoice({})).toBeUndefined();
    expect(mailserverChoice({ MRB_LAB_MAILSERVER: '' })).toBeUndefined();
    expect(mailserverChoice({ MRB_LAB_MAILSERVER: 'dms' })).toBe('dms');
    expect(mailserverChoice({ MRB_LAB_MAILSERVER: ' lab ' })).toBe('lab');
    expect(() => mailserverChoice({ MRB_LAB_MAILSERVER: 'docker-mailserver' })).toThrow(/use 'dms'/);
  });
});

describe('rememberedMailserver (lab up without MRB_LAB_MAILSERVER)', () => {
  const dmsLab = 'mrb-lab/dms-lab:15.1.0';
  it('is the real DMS on a fresh lab and on one that ran it', () => {
    expect(rememberedMailserver({ ports: DEFAULT_PORTS }, dmsLab)).toBe('dms');
    expect(rememberedMailserver({ ports: DEFAULT_PORTS, dmsImage: dmsLab }, dmsLab)).toBe('dms');
  });
  it('keeps the lab image once chosen, and an image given with --dms-image', () => {
    expect(rememberedMailserver({ ports: DEFAULT_PORTS, mailserver: 'lab' }, dmsLab)).toBe('lab');
    expect(rememberedMailserver({ ports: DEFAULT_PORTS, dmsImage: 'mine/dms:1' }, dmsLab)).toBeUndefined();
  });
});

describe('the mail server container', () => {
  it('with the real DMS: DMS health check, no update check, the lab override in postfix-main.cf', () => {
    const spec = mailserver('mrb-lab/dms-lab:15.1.0');
    expect(spec.kind).toBe('dms');
    expect(spec.create.Image).toBe('mrb-lab/dms-lab:15.1.0');
    expect(spec.create.Env).toContain('ENABLE_UPDATE_CHECK=0');
    expect(spec.create.Env).toEqual(expect.arrayContaining(['ENABLE_CLAMAV=0', 'ENABLE_RSPAMD=0']));
    expect(spec.create.Healthcheck?.Test?.join(' ')).toMatch(/ss --listening .*:smtp/);
    const override = spec.files.find((f) => f.path === 'tmp/docker-mailserver/postfix-main.cf');
    expect(override?.content).toBe(DMS_POSTFIX_MAIN_OVERRIDES);
    expect(DMS_POSTFIX_MAIN_OVERRIDES).toMatch(/^smtp_helo_timeout = 20s$/m);
    expect(spec.files.map((f) => f.path)).toContain('tmp/docker-mailserver/postfix-sasl-password.cf');
  });

  it('with the lab image: none of that', () => {
    const spec = mailserver();
    expect(spec.kind).toBe('lab');
    expect(spec.create.Env).not.toContain('ENABLE_UPDATE_CHECK=0');
    expect(spec.files.map((f) => f.path)).not.toContain('tmp/docker-mailserver/postfix-main.cf');
  });
});
