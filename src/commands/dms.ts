/**
 * docker-mailserver: commands run inside the mail server container (the Docker exec transport supplies
 * the container; argv here is what runs in it). Program names are DMS's supervisord programs.
 */
import { mailServerCommands } from './mail-server.js';
import { tailFile } from './posix.js';
import * as services from './services.js';
import { CommandInputError, type CatalogueCommand } from './types.js';
import { printable } from './validate.js';

/** supervisord programs of DMS (target/supervisor/conf.d/dms-services.conf and saslauth.conf, v15.1.0). */
export const DMS_PROGRAMS = [
  'mailserver',
  'cron',
  'rsyslog',
  'fail2ban',
  'opendkim',
  'opendmarc',
  'dovecot',
  'clamav',
  'postgrey',
  'amavis',
  'rspamd',
  'rspamd-redis',
  'fetchmail',
  'postfix',
  'changedetector',
  'postsrsd',
  'update-check',
  'mta-sts-daemon',
  'getmail',
  'saslauthd_ldap',
  'saslauthd_rimap',
] as const;
export type DmsProgram = (typeof DMS_PROGRAMS)[number];

// 'mailserver' runs start-mailserver.sh, which (re)configures and starts everything else: restarting it
// is not "restart one program", so the runbooks may not do it.
const NOT_RESTARTABLE: ReadonlySet<string> = new Set(['mailserver']);

export const DMS_MAIL_LOG = '/var/log/mail/mail.log';

export function dmsProgram(value: string, forRestart = false): DmsProgram {
  const found = DMS_PROGRAMS.find((p) => p === value);
  if (!found) {
    throw new CommandInputError(
      'program',
      `'${printable(value)}' is not a docker-mailserver program (${DMS_PROGRAMS.join(', ')})`,
    );
  }
  if (forRestart && NOT_RESTARTABLE.has(found)) {
    throw new CommandInputError('program', `'${found}' runs the DMS start script and is not restarted alone`);
  }
  return found;
}

export const dmsCommands = {
  ...mailServerCommands,
  supervisorStatus: (program?: string): CatalogueCommand =>
    services.supervisorStatus(program === undefined ? undefined : dmsProgram(program)),
  supervisorRestart: (program: string): CatalogueCommand =>
    services.supervisorRestart(dmsProgram(program, true)),
  tailMailLog: (lines: number): CatalogueCommand => tailFile(DMS_MAIL_LOG, lines, 'mail log'),
} as const;
