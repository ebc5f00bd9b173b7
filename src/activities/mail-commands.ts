/**
 * The commands of a target's mail server, whatever its kind: docker-mailserver (supervisord in a
 * container) or plain Postfix on a host (systemd). Both share Postfix's tools; the mail log path is the
 * target's own.
 */
import { mailServerCommands, postfixHostCommands, type CatalogueCommand } from '../commands/index.js';
import type { Target } from '../config/schema.js';

export function mailCommands(target: Target) {
  return {
    ...mailServerCommands,
    tailMailLog: (lines: number): CatalogueCommand =>
      postfixHostCommands.tailMailLog(lines, target.mailServer.mailLog),
  };
}
