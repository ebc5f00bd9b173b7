/**
 * Postfix's own tools, identical on a DMS container and a plain Postfix host (the transport decides
 * where they run: docker exec or SSH). Read-only unless marked stateChanging.
 */
import { COMMAND_LIMIT_MS, QUEUE_LIST_MAX_MS } from './limits.js';
import { command, CommandInputError, KIB, MIB, SECOND, type CatalogueCommand } from './types.js';
import { postconfParameter, postfixMap, postmapKey, queueId, queueName, type QueueName } from './validate.js';

/** At most this many ids in one postsuper call; larger selections are split by the caller. */
export const MAX_IDS_PER_POSTSUPER = 5_000;
/** Up to this many ids go in argv (readable in evidence); more go to postsuper's standard input ("-"). */
const MAX_IDS_IN_ARGV = 10;

export type PostsuperAction = 'hold' | 'release' | 'requeue' | 'delete';

const POSTSUPER_FLAG: Record<PostsuperAction, string> = {
  hold: '-h',
  release: '-H',
  requeue: '-r',
  delete: '-d',
};

// Hold/release/requeue of everything is reversible or harmless; deleting the whole queue is not, so 'ALL'
// is refused for delete: queue surgery must name the messages it removes.
const ALL_ALLOWED: Record<PostsuperAction, boolean> = {
  hold: true,
  release: true,
  requeue: true,
  delete: false,
};

export type PostsuperSelection =
  { readonly ids: readonly string[] } | { readonly all: true; readonly queue?: QueueName };

/**
 * Runs "$@" (a fixed producer from this catalogue) into CONSUMER, and exits with the producer's status
 * unless the consumer failed (sh has no pipefail): the status travels back on fd 4 of a command
 * substitution while the data goes to the original stdout (fd 3).
 */
function keepingProducerStatus(consumer: string): string {
  return [
    'exec 3>&1',
    `s=$( { { "$@" 3>&- 4>&-; echo $? >&4; } | ${consumer} >&3 4>&-; } 4>&1 ) || exit`,
    'exit "${s:-1}"',
  ].join('\n');
}

/**
 * postqueue writes its listing a few KB at a time and every write becomes a frame (docker exec) or a
 * packet (SSH) to pay for on our side; dd gathers it into 1 MiB blocks inside the host first. The
 * command still fails with postqueue's exit status.
 */
export const QUEUE_JSON_SCRIPT = keepingProducerStatus('dd ibs=64K obs=1M status=none');

/**
 * The listing's limit is the ceiling for any queue (QUEUE_LIST_MAX_MS); its caller stops it sooner, at
 * queueListLimitMs of the queue file count, once that count (taken beside the listing) is in.
 */
export function queueJson(): CatalogueCommand {
  return command({
    argv: ['sh', '-c', QUEUE_JSON_SCRIPT, 'queue-json', 'postqueue', '-j'],
    // The summary consumes stdout line by line; the buffered copy only feeds an error message (its
    // tail), so it is kept small: every byte of it stays in the worker's memory until the listing ends.
    timeoutMs: QUEUE_LIST_MAX_MS,
    maxOutputBytes: 64 * KIB,
    stateChanging: false,
    description: 'List the Postfix queue as one JSON object per message (postqueue -j)',
  });
}

/** The queues postqueue lists (not corrupt/, which it skips); one file per message. */
export const LISTED_QUEUES = ['maildrop', 'incoming', 'active', 'deferred', 'hold'] as const;

/**
 * Counts the queue files instead of listing them: directory reads only, no queue file opened, so a drain
 * wait can poll a 100k backlog for a small fraction of what `postqueue -j` costs. A failing find (say,
 * no permission) fails the command rather than reporting a short count that would look drained.
 */
export const QUEUE_COUNT_SCRIPT = [
  'q=$(postconf -h queue_directory) && cd -- "$q" || exit',
  keepingProducerStatus('wc -l'),
].join('\n');

export function queueFileCount(): CatalogueCommand {
  return command({
    argv: ['sh', '-c', QUEUE_COUNT_SCRIPT, 'queue-count', 'find', ...LISTED_QUEUES, '-type', 'f'],
    timeoutMs: COMMAND_LIMIT_MS.queueCount,
    maxOutputBytes: 4 * KIB,
    stateChanging: false,
    description: 'Count the messages in the Postfix queue (files under the queue directory)',
  });
}

export function flushQueue(): CatalogueCommand {
  return command({
    argv: ['postqueue', '-f'],
    timeoutMs: COMMAND_LIMIT_MS.queueFlush,
    maxOutputBytes: 64 * KIB,
    stateChanging: true,
    description: 'Attempt delivery of all queued mail now (postqueue -f)',
  });
}

export function postsuper(action: PostsuperAction, selection: PostsuperSelection): CatalogueCommand {
  const flag = POSTSUPER_FLAG[action];
  let args: string[];
  let what: string;
  let stdin: string | undefined;
  if ('all' in selection) {
    if (!ALL_ALLOWED[action]) {
      throw new CommandInputError(
        'queue ids',
        `'ALL' is not allowed for ${action}: name the messages to delete`,
      );
    }
    args = [flag, 'ALL'];
    if (selection.queue !== undefined) args.push(queueName(selection.queue));
    what = `all messages${selection.queue ? ` in the ${selection.queue} queue` : ''}`;
  } else {
    const ids = selection.ids;
    if (ids.length === 0) throw new CommandInputError('queue ids', 'at least one queue id is required');
    if (ids.length > MAX_IDS_PER_POSTSUPER) {
      throw new CommandInputError(
        'queue ids',
        `at most ${MAX_IDS_PER_POSTSUPER} ids per call (got ${ids.length})`,
      );
    }
    const valid = ids.map((id, i) => queueId(id, `queue ids[${i}]`));
    if (valid.length <= MAX_IDS_IN_ARGV) args = valid.flatMap((id) => [flag, id]);
    else {
      args = [flag, '-'];
      stdin = `${valid.join('\n')}\n`;
    }
    what = ids.length === 1 ? `message ${ids[0]}` : `${ids.length} messages`;
  }
  return command({
    argv: ['postsuper', ...args],
    ...(stdin !== undefined && { stdin }),
    timeoutMs: COMMAND_LIMIT_MS.postsuper,
    // postsuper reports each message on stderr, then the totals: room for a full batch.
    maxOutputBytes: 1 * MIB,
    stateChanging: true,
    description: `${action[0]?.toUpperCase()}${action.slice(1)} ${what} (postsuper ${flag})`,
  });
}

export function postconfNonDefault(): CatalogueCommand {
  return command({
    argv: ['postconf', '-n'],
    timeoutMs: 15 * SECOND,
    maxOutputBytes: 1 * MIB,
    stateChanging: false,
    description: 'Show main.cf settings that differ from the defaults (postconf -n)',
  });
}

export function postconfMaster(): CatalogueCommand {
  return command({
    argv: ['postconf', '-M'],
    timeoutMs: 15 * SECOND,
    maxOutputBytes: 1 * MIB,
    stateChanging: false,
    description: 'Show the master.cf services (postconf -M)',
  });
}

export function postconfValues(parameters: readonly string[]): CatalogueCommand {
  if (parameters.length === 0 || parameters.length > 50) {
    throw new CommandInputError('postconf parameters', 'give 1 to 50 parameter names');
  }
  const names = parameters.map((p, i) => postconfParameter(p, `postconf parameters[${i}]`));
  return command({
    argv: ['postconf', '-h', ...names],
    timeoutMs: 15 * SECOND,
    maxOutputBytes: 256 * KIB,
    stateChanging: false,
    description: `Show the effective value of ${names.join(', ')} (postconf -h)`,
  });
}

/**
 * Looks one key up in one lookup table, as Postfix would (`postmap -q KEY type:/path`). Read only. Exit 1
 * means "not found" unless stderr says "fatal:" (parsers/postfix-maps.ts). The value is printed on stdout:
 * callers that query a password map (smtp_sasl_password_maps) must keep it out of evidence and errors.
 */
export function postmapQuery(key: string, map: string): CatalogueCommand {
  const k = postmapKey(key);
  const m = postfixMap(map);
  return command({
    argv: ['postmap', '-q', k, m],
    timeoutMs: 15 * SECOND,
    maxOutputBytes: 16 * KIB,
    stateChanging: false,
    description: `Look up ${k} in ${m} (postmap -q)`,
    okExitCodes: [0, 1],
  });
}

/** Rebuilds an indexed lookup table from its source file (`postmap hash:/etc/postfix/sasl_passwd`). */
export function postmapBuild(map: string): CatalogueCommand {
  const m = postfixMap(map);
  return command({
    argv: ['postmap', m],
    timeoutMs: COMMAND_LIMIT_MS.postfixControl,
    maxOutputBytes: 16 * KIB,
    stateChanging: true,
    description: `Rebuild the lookup table ${m} (postmap)`,
  });
}

/** Makes the running Postfix re-read its configuration and tables (`postfix reload`). */
export function postfixReload(): CatalogueCommand {
  return command({
    argv: ['postfix', 'reload'],
    timeoutMs: COMMAND_LIMIT_MS.postfixControl,
    maxOutputBytes: 16 * KIB,
    stateChanging: true,
    description: 'Reload Postfix (postfix reload)',
  });
}
