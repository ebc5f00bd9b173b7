/**
 * The deployment files' own rules (docs/deploy.md): the Docker socket proxy's allow-list, and the compose
 * file's wiring (only the proxy mounts the engine socket; the worker reaches Docker through the proxy's
 * socket on a shared volume). The proxy on the real engine: test/integration/docker-proxy.test.ts.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { allowedDockerCall } from '../../src/deploy/docker-proxy.js';

const EXEC = 'a'.repeat(64);

describe('the Docker socket proxy allow-list', () => {
  it('allows the calls the Docker transport makes, for the one container', () => {
    for (const [method, path] of [
      ['GET', '/_ping'],
      ['HEAD', '/_ping'],
      ['GET', '/v1.41/version'],
      ['GET', '/v1.41/containers/mailserver/json'],
      ['POST', '/containers/mailserver/exec'],
      ['POST', `/v1.47/exec/${EXEC}/start`],
      ['GET', `/exec/${EXEC}/json`],
    ]) {
      expect(allowedDockerCall(method!, path!, 'mailserver'), `${method} ${path}`).toBe(true);
    }
  });

  it('refuses everything else', () => {
    for (const [method, path] of [
      ['POST', '/_ping'],
      ['GET', '/containers/json'],
      ['GET', '/containers/other/json'],
      ['POST', '/containers/other/exec'],
      ['POST', '/containers/mailserverx/exec'],
      ['POST', '/containers/mail.server/exec'],
      ['GET', '/containers/mailserver/exec'],
      ['POST', '/containers/mailserver/stop'],
      ['DELETE', '/containers/mailserver'],
      ['POST', '/containers/create'],
      ['GET', '/containers/mailserver/json?size=1'],
      ['GET', '/containers/mailserver/../other/json'],
      ['GET', '/containers/other/../mailserver/json'],
      ['GET', '/containers/mailserver%2f..%2fother/json'],
      ['GET', '//containers/mailserver/json'],
      ['POST', `/exec/${EXEC.slice(1)}/start`],
      ['POST', `/exec/${EXEC}/resize`],
      ['GET', '/v1/containers/mailserver/json'],
      ['GET', '/images/json'],
    ]) {
      expect(allowedDockerCall(method!, path!, 'mailserver'), `${method} ${path}`).toBe(false);
    }
    // A container name that is not a plain name allows nothing.
    expect(allowedDockerCall('GET', '/containers/.*/json', '.*')).toBe(false);
  });

  it('escapes the dot of a container name (not any character)', () => {
    expect(allowedDockerCall('POST', '/containers/mail.server/exec', 'mail.server')).toBe(true);
    expect(allowedDockerCall('POST', '/containers/mailxserver/exec', 'mail.server')).toBe(false);
  });
});

describe('deploy/compose.yaml', () => {
  type Service = {
    volumes?: string[];
    command?: string[];
    environment?: Record<string, string>;
    network_mode?: string;
  };
  const compose = async () =>
    parse(await readFile(new URL('../../deploy/compose.yaml', import.meta.url), 'utf8')) as {
      services: Record<string, Service>;
      name?: string;
    };

  it('has no top-level name (docker-compose 1.29, Debian 12, refuses it; -p names the project)', async () => {
    expect(Object.keys(await compose())).not.toContain('name');
  });

  it('runs mail-runbooks next to a mailserver service, through the socket proxy only', async () => {
    const { services } = await compose();
    expect(Object.keys(services).sort()).toEqual(['docker-proxy', 'mail-runbooks', 'mailserver', 'temporal']);
    const mountsEngine = Object.entries(services)
      .filter(([, s]) => (s.volumes ?? []).some((v) => v.startsWith('/var/run/docker.sock')))
      .map(([name]) => name);
    expect(mountsEngine).toEqual(['docker-proxy']);
    const proxy = services['docker-proxy']!;
    expect(proxy.command).toEqual(['mail-runbooks-docker-proxy']);
    expect(proxy.network_mode).toBe('none');
    expect(proxy.environment?.MRB_PROXY_CONTAINER).toBe('mailserver');
    const worker = services['mail-runbooks']!;
    expect(worker.command).toEqual(['mail-runbooks-start']);
    expect(worker.volumes).toContain('docker-proxy:/run/docker-proxy');
    expect(worker.environment?.MRB_CONFIG).toBe('/etc/mail-runbooks/mail-runbooks.yaml');
  });
});
