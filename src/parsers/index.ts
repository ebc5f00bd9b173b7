/** Pure parsers of command output (no I/O). Each throws ParseError on output it cannot make sense of. */
export { ParseError } from './errors.js';
export * from './postqueue-json.js';
export * from './postqueue-text.js';
export * from './queue-summary.js';
export { CREDENTIALS_REFUSED, normaliseDelayReason } from './delay-reason.js';
export { HeavyHitters, type TopEntry, type TopList } from './heavy-hitters.js';
export * from './supervisorctl.js';
export * from './ss.js';
export * from './sockets.js';
export * from './postconf.js';
export * from './postconf-master.js';
export * from './mail-log.js';
export * from './netstat-windows.js';
export * from './get-process.js';
export * from './qshape.js';
export * from './stat.js';
export * from './smtp-probe.js';
