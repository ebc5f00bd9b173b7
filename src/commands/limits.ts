/**
 * The time limits of the catalogue's state-changing commands, in one import-free module: the command
 * builders use them, and so does the workflow engine (src/workflows/engine/policies.ts), whose action
 * timeouts are derived from the limit of the commands each action runs instead of a fixed guess.
 */

export const SECOND = 1000;

/** How long each kind of host command may run before the transport (and the host-side wrapper) stops it. */
export const COMMAND_LIMIT_MS = {
  /** `supervisorctl restart|start|stop`: supervisord waits stopwaitsecs and startsecs (amavis: ~30 s). */
  supervisorControl: 90 * SECOND,
  /** `systemctl restart|start|stop`. */
  systemdControl: 120 * SECOND,
  /** Stop-/Start-ScheduledTask, one of them. */
  scheduledTask: 60 * SECOND,
  /** Stop-ScheduledTask; Start-ScheduledTask in one session. */
  scheduledTaskRestart: 90 * SECOND,
  /** `postqueue -j` over a queue of up to QUEUE_LIST_BASE_MESSAGES; larger ones get queueListLimitMs. */
  queueList: 120 * SECOND,
  /** Counting the queue files (a directory walk, no file opened). */
  queueCount: 30 * SECOND,
  /** `postqueue -f`. */
  queueFlush: 30 * SECOND,
  /** One postsuper call (at most MAX_IDS_PER_POSTSUPER ids). */
  postsuper: 120 * SECOND,
  /** `postfix reload`, `postmap`. */
  postfixControl: 30 * SECOND,
  /** chmod, chown, mv, writing a small file. */
  fileChange: 10 * SECOND,
  /** Stopping the mail server container: the engine's grace period (docker stop -t) plus the kill. */
  containerStop: 45 * SECOND,
} as const;

/** Queues up to this many messages are listed within COMMAND_LIMIT_MS.queueList. */
export const QUEUE_LIST_BASE_MESSAGES = 100_000;
/**
 * The ceiling of a listing's limit whatever the queue size: at the rate below, about 2.5 million
 * messages. A listing this long heartbeats throughout, so a dead worker is noticed well before it.
 */
export const QUEUE_LIST_MAX_MS = 60 * 60 * SECOND;

/**
 * The limit of one `postqueue -j` over `queued` messages (the queue file count taken just before): the
 * base limit per QUEUE_LIST_BASE_MESSAGES, and half as much again for what arrives between the count and
 * the listing. A listing takes seconds per 100,000 messages on a 2-core machine (bench/queue-floor.ts),
 * so this leaves room for a loaded host or queue files no longer in the page cache.
 */
export function queueListLimitMs(queued: number): number {
  const units = Math.max(1, (1.5 * Math.max(0, queued)) / QUEUE_LIST_BASE_MESSAGES);
  return Math.min(QUEUE_LIST_MAX_MS, Math.ceil(units * COMMAND_LIMIT_MS.queueList));
}

/**
 * What the host-side once wrapper (commands/once.ts) adds to a command's limit: creating its marker,
 * receiving standard input, recording the exit code and printing the output back.
 */
export const ONCE_WRAPPER_MARGIN_MS = 15 * SECOND;

/** How often an activity heartbeats while a host command runs or an earlier attempt's command is awaited. */
export const COMMAND_HEARTBEAT_MS = 5 * SECOND;

/**
 * The start-to-close budget of an action that runs commands once with the given limits, one after the
 * other: a retried attempt may first await the earlier attempt's command (up to its limit), then run its
 * own; plus a minute for the reads around them (marker status, host-state checks, recorded output).
 */
export function onceActionBudgetMs(...limitsMs: number[]): number {
  const commands = limitsMs.reduce((sum, ms) => sum + ms + ONCE_WRAPPER_MARGIN_MS, 0);
  return 2 * commands + 60 * SECOND;
}
