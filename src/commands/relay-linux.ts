/**
 * A Linux relay host reached over SSH: is the relay port listening, is its service up (systemd or
 * supervisord, per config), restart it, tail its logs. The port is checked by parsing `ss -tln`
 * (parsers/ss.ts) rather than a filter expression, so the same parser serves every flavour.
 */
import { listeningTcp, processAge, tailFile } from './posix.js';
import * as services from './services.js';
import type { CatalogueCommand } from './types.js';

export const relayLinuxCommands = {
  listeningPorts: (): CatalogueCommand => listeningTcp(false),
  systemdIsActive: services.systemdIsActive,
  systemdRestart: services.systemdRestart,
  supervisorStatus: (program: string): CatalogueCommand => services.supervisorStatus(program),
  supervisorRestart: services.supervisorRestart,
  supervisorSet: services.supervisorSet,
  systemdSet: services.systemdSet,
  systemdMainPid: services.systemdMainPid,
  processAge,
  tailLog: (path: string, lines: number): CatalogueCommand => tailFile(path, lines, 'relay log'),
} as const;
