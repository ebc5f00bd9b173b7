/**
 * The real parts the transport suites run against, started together: an sshd on loopback, a throwaway
 * container and a TLS proxy in front of the local engine socket.
 */
import type Docker from 'dockerode';
import type { TransportSpec } from '../../src/transports/index.js';
import {
  startTestContainer,
  startTlsEngineProxy,
  type TestContainer,
  type TlsEngineProxy,
} from './docker.js';
import { startSshd, type TestSshd } from './sshd.js';

export type SshSpec = Extract<TransportSpec, { kind: 'ssh' }>;

export interface TransportParts {
  readonly sshd: TestSshd;
  readonly container: TestContainer;
  readonly tlsProxy: TlsEngineProxy;
  /** An SSH transport to the sshd as the current user, with the authorized key and the pinned host key. */
  sshSpec(over?: Partial<SshSpec>): SshSpec;
  stop(): Promise<void>;
}

export async function startTransportParts(docker: Docker): Promise<TransportParts> {
  const [sshd, container, tlsProxy] = await Promise.all([
    startSshd(),
    startTestContainer(docker),
    startTlsEngineProxy(),
  ]);
  return {
    sshd,
    container,
    tlsProxy,
    sshSpec: (over = {}) => ({
      kind: 'ssh',
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      privateKey: sshd.clientKey,
      hostKeyFingerprint: sshd.hostKeyFingerprint,
      shell: 'posix',
      ...over,
    }),
    async stop() {
      await Promise.allSettled([sshd.stop(), container.remove(), tlsProxy.stop()]);
    },
  };
}
