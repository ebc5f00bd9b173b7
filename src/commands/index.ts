/** The command catalogue: one module per target flavour, all returning CatalogueCommand argv values. */
export { command, CommandInputError, type CatalogueCommand } from './types.js';
export { dmsCommands, dmsProgram, DMS_PROGRAMS, DMS_MAIL_LOG, type DmsProgram } from './dms.js';
export { postfixHostCommands, POSTFIX_HOST_DEFAULT_UNIT, POSTFIX_HOST_MAIL_LOG } from './postfix-host.js';
export { relayLinuxCommands } from './relay-linux.js';
export { relayWindowsCommands, psSingleQuoted } from './relay-windows.js';
export { MAX_IDS_PER_POSTSUPER, type PostsuperAction, type PostsuperSelection } from './postfix.js';
export { MAX_TAIL_LINES, STAT_FORMAT, type SshEchoOptions } from './posix.js';
export { isQueueId, QUEUE_NAMES, type QueueName } from './validate.js';
export { mailServerCommands } from './mail-server.js';
