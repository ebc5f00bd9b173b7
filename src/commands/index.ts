/**
 * The command catalogue: one module per target flavour, all returning CatalogueCommand argv values.
 * Activities take theirs from `relayCommandsFor` and `mailServerCommandsFor`, which resolve the flavour.
 */
export { command, CommandInputError, type CatalogueCommand } from './types.js';
export { tail, type CommandCheck, type CommandOutput, type RunCommand } from './output.js';
export {
  relayCommandsFor,
  type RelayCommands,
  type RelayFlavour,
  type RelayServiceState,
  type RelayServiceUptime,
} from './relay-flavour.js';
export {
  mailServerCommandsFor,
  type MailServerCommands,
  type MailServerFlavour,
  type ProgramsState,
} from './mail-server-flavour.js';
export { dmsCommands, dmsProgram, DMS_PROGRAMS, DMS_MAIL_LOG, type DmsProgram } from './dms.js';
export { postfixHostCommands, POSTFIX_HOST_DEFAULT_UNIT, POSTFIX_HOST_MAIL_LOG } from './postfix-host.js';
export { relayLinuxCommands } from './relay-linux.js';
export { relayWindowsCommands, psSingleQuoted } from './relay-windows.js';
export {
  MAX_IDS_PER_POSTSUPER,
  QUEUE_COUNT_SCRIPT,
  QUEUE_JSON_SCRIPT,
  type PostsuperAction,
  type PostsuperSelection,
} from './postfix.js';
export { MAX_TAIL_LINES, STAT_FORMAT, type SshEchoOptions } from './posix.js';
export { isQueueId, QUEUE_NAMES, type QueueName } from './validate.js';
export { mailServerCommands } from './mail-server.js';
export {
  ONCE_ALREADY_STARTED_EXIT,
  ONCE_ALREADY_STARTED_TEXT,
  ONCE_INPUT_CUT_EXIT,
  ONCE_UNUSABLE_EXIT,
  DMS_ONCE_BASE,
  SSH_ONCE_BASE,
  posixOnce,
  windowsOnce,
  type OnceCommands,
} from './once.js';
export {
  COMMAND_LIMIT_MS,
  COMMAND_HEARTBEAT_MS,
  onceActionBudgetMs,
  queueListLimitMs,
  QUEUE_LIST_MAX_MS,
} from './limits.js';
