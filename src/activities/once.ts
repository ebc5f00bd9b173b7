/**
 * Exactly-once for state-changing actions. A retried attempt (the worker died after the change but before
 * the result reached the server) finds the previous attempt's heartbeat, which is recorded right after the
 * change, and returns that outcome instead of restarting or flushing a second time.
 */
import { Context } from '@temporalio/activity';
import type { CatalogueCommand } from '../commands/index.js';
import type { HostTransport } from '../transports/index.js';
import type { StepOutcome } from '../shared/types.js';
import { runOk, tail } from './run.js';

interface Applied<E> {
  onceKey: string;
  outcome: StepOutcome<E>;
}

export async function once<E>(
  onceKey: string,
  apply: () => Promise<StepOutcome<E>>,
): Promise<StepOutcome<E>> {
  const ctx = Context.current();
  const previous = ctx.info.heartbeatDetails as Applied<E> | undefined;
  if (previous?.onceKey === onceKey && previous.outcome) {
    ctx.log.info('action already applied by an earlier attempt; not applying it again', { onceKey });
    return {
      ...previous.outcome,
      summary: `${previous.outcome.summary} (applied once, by attempt before a retry)`,
    };
  }
  const outcome = await apply();
  ctx.heartbeat({ onceKey, outcome } satisfies Applied<E>);
  return outcome;
}

/** What a state-changing catalogue command leaves as evidence: its output. */
export type CommandOutcome = StepOutcome<{ output: string }>;

/**
 * One state-changing catalogue command on a host (onMailServer, onRelay), applied once per run and step;
 * the summary is made from its output (stdout and stderr, trimmed).
 */
export async function commandOnce<Commands>(
  onceKey: string,
  on: { host: HostTransport; commands: Commands },
  build: (commands: Commands) => CatalogueCommand,
  summary: (output: string) => string,
): Promise<CommandOutcome> {
  return once(onceKey, async () => {
    const r = await runOk(on.host, () => build(on.commands));
    const output = tail(`${r.stdout}${r.stderr}`);
    return { ok: true, summary: summary(output), evidence: { output } };
  });
}
