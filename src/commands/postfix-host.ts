/**
 * Plain Postfix on a host reached over SSH: the same Postfix tools as DMS, systemd for the service.
 * Debian runs the real daemon as the instance unit postfix@- (postfix.service is only a wrapper that
 * stays "active" even when the instance failed), so that is the default unit to check.
 */
import { mailServerCommands } from './mail-server.js';
import { tailFile } from './posix.js';
import * as services from './services.js';
import type { CatalogueCommand } from './types.js';

export const POSTFIX_HOST_DEFAULT_UNIT = 'postfix@-';
export const POSTFIX_HOST_MAIL_LOG = '/var/log/mail.log';

export const postfixHostCommands = {
  ...mailServerCommands,
  serviceIsActive: (unit: string = POSTFIX_HOST_DEFAULT_UNIT): CatalogueCommand =>
    services.systemdIsActive(unit),
  serviceRestart: (unit: string = POSTFIX_HOST_DEFAULT_UNIT): CatalogueCommand =>
    services.systemdRestart(unit),
  serviceSet: (running: boolean, unit: string = POSTFIX_HOST_DEFAULT_UNIT): CatalogueCommand =>
    services.systemdSet(unit, running),
  tailMailLog: (lines: number, path: string = POSTFIX_HOST_MAIL_LOG): CatalogueCommand =>
    tailFile(path, lines, 'mail log'),
} as const;
