/**
 * One entry point: a plain, already-resolved spec (secrets are contents, not references) in, a
 * HostTransport out. The config module maps the YAML config to these specs.
 */
import { DockerTransport } from './docker.js';
import type { DockerEngineSpec } from './docker-engine.js';
import { LocalTransport } from './local.js';
import type { SshEndpoint } from './ssh-connection.js';
import { SshTransport } from './ssh.js';
import type { RemoteShell } from './quoting.js';
import type { HostTransport } from './types.js';

export type TransportSpec =
  | { readonly kind: 'local' }
  | {
      readonly kind: 'docker';
      readonly engine: DockerEngineSpec;
      readonly container: string;
      readonly connectTimeoutMs?: number;
    }
  | ({ readonly kind: 'ssh'; readonly shell: RemoteShell } & SshEndpoint);

/** Throws TransportError('config' | 'auth') at once when the spec cannot work (bad fingerprint, unusable key, ...). */
export function createTransport(spec: TransportSpec): HostTransport {
  switch (spec.kind) {
    case 'local':
      return new LocalTransport();
    case 'docker':
      return new DockerTransport(spec);
    case 'ssh':
      return new SshTransport(spec);
  }
}

export type { DockerEngineSpec } from './docker-engine.js';
export type { SshEndpoint } from './ssh-connection.js';
export type { RemoteShell } from './quoting.js';
export { TransportError } from './types.js';
export type { ExecRequest, ExecResult, HostTransport, TransportErrorKind } from './types.js';
