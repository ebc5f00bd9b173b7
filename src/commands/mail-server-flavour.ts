/**
 * A mail server's commands with its kind resolved, in one call: `mailServerCommandsFor(server)` for
 * docker-mailserver (supervisord in a container) or plain Postfix on a host (systemd). Both share
 * Postfix's tools (mail-server.ts); the mail log is the configured one. No activity branches on the kind.
 */
import type { MailServer } from '../config/schema.js';
import { parseSupervisorStatus, type SupervisorProgram } from '../parsers/index.js';
import { dmsCommands } from './dms.js';
import { mailServerCommands } from './mail-server.js';
import { DMS_ONCE_BASE, posixOnce, SSH_ONCE_BASE, type OnceCommands } from './once.js';
import type { CommandCheck } from './output.js';
import { tailFile } from './posix.js';
import { postfixHostCommands } from './postfix-host.js';
import { CommandInputError, type CatalogueCommand } from './types.js';

/** What the kind needs from the mail server's config. */
export type MailServerFlavour = Pick<MailServer, 'kind' | 'mailLog'>;

/** The processes that should run, and those that do not. */
export interface ProgramsState {
  readonly programs: SupervisorProgram[];
  readonly notRunning: string[];
  readonly summary: string;
}

interface KindCommands {
  /** DMS: its supervisord programs; a plain host: the Postfix unit. */
  readonly programs: CommandCheck<ProgramsState>;
  /** Restarts one program (DMS); a plain host has none, so the builder refuses. */
  restartProgram(program: string): CatalogueCommand;
  /** Files the server rebuilds its SASL password table from at start: a password fix must change them too. */
  readonly saslPasswordSources: readonly string[];
  /**
   * Where a change detector records the SHA-512 of each source file it has applied (`<hex>  <path>` lines;
   * DMS's changedetector, which rebuilds the tables and reloads Postfix itself a few seconds after a source
   * changes). Absent: nothing applies the sources behind our back.
   */
  readonly appliedSourcesList?: string;
  /** State-changing commands run once through this wrapper (commands/once.ts). */
  readonly once: OnceCommands;
  /**
   * Files the commands change live inside a container (DMS), so recreating the container undoes a change
   * made only there; a plain host keeps them.
   */
  readonly filesInContainer: boolean;
  /** How to narrow a mynetworks that trusts too much on this kind ('' when editing main.cf is the way). */
  readonly wideTrustFix: string;
}

export type MailServerCommands = typeof mailServerCommands &
  KindCommands & { tailMailLog(lines: number): CatalogueCommand };

const dms: KindCommands = {
  programs: async (runCommand) => {
    const r = await runCommand(() => dmsCommands.supervisorStatus(), { mustSucceed: true });
    const programs = parseSupervisorStatus(r.stdout);
    // STOPPED with "Not started" is a program DMS leaves off by configuration (autostart=false): not a fault.
    const notRunning = programs
      .filter((p) => p.state !== 'RUNNING' && !(p.state === 'STOPPED' && p.description === 'Not started'))
      .map((p) => p.name);
    const running = programs.filter((p) => p.state === 'RUNNING').length;
    return {
      programs,
      notRunning,
      summary: notRunning.length
        ? `not running: ${programs
            .filter((p) => notRunning.includes(p.name))
            .map((p) => `${p.name} ${p.state}`)
            .join(', ')}`
        : `${running} supervisord programs running`,
    };
  },
  restartProgram: (program) => dmsCommands.supervisorRestart(program),
  saslPasswordSources: ['/tmp/docker-mailserver/postfix-sasl-password.cf'],
  appliedSourcesList: '/tmp/docker-mailserver-config-chksum',
  once: posixOnce(DMS_ONCE_BASE),
  filesInContainer: true,
  // docker-mailserver writes mynetworks itself at every start, from PERMIT_DOCKER: editing main.cf would not
  // last, the setting must change.
  wideTrustFix:
    "On docker-mailserver, PERMIT_DOCKER=network adds 172.16.0.0/12 and PERMIT_DOCKER=host the container's /16 at every start: set PERMIT_DOCKER=none (or container) and recreate the container",
};

const postfixHost: KindCommands = {
  programs: async (runCommand) => {
    const r = await runCommand(() => postfixHostCommands.serviceIsActive(), { mustSucceed: false });
    const state = r.stdout.trim();
    return {
      programs: [],
      notRunning: state === 'active' ? [] : ['postfix'],
      summary: `postfix unit is ${state || `exit ${r.exitCode}`}`,
    };
  },
  restartProgram: () => {
    throw new CommandInputError('program', 'plain Postfix runs no supervisord programs to restart');
  },
  saslPasswordSources: [],
  once: posixOnce(SSH_ONCE_BASE),
  filesInContainer: false,
  wideTrustFix: '',
};

export function mailServerCommandsFor(server: MailServerFlavour): MailServerCommands {
  return {
    ...mailServerCommands,
    ...(server.kind === 'dms' ? dms : postfixHost),
    tailMailLog: (lines) => tailFile(server.mailLog, lines, 'mail log'),
  };
}
