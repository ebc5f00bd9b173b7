/**
 * How the mail server runs, resolved once per kind as part of the activity context: a docker-mailserver
 * container through the Docker engine API, or plain Postfix's systemd unit over SSH. Activities ask this
 * (state, start/stop, container networking) and never branch on the kind themselves.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { mailServerCommandsFor, postfixHostCommands } from '../commands/index.js';
import type { MailServer, Target } from '../config/schema.js';
import { ERROR_TYPE } from '../shared/errors.js';
import type { StepOutcome } from '../shared/types.js';
import { mailServerEngine, mailServerHost } from './context.js';
import { attemptNumber, beat } from './heartbeat.js';
import { commandOnce, isoTime } from './once.js';
import { outcome } from './outcome.js';
import { asFailure, run } from './run.js';

export interface ServerState {
  kind: 'dms' | 'postfix';
  where: string;
  state: string;
  running: boolean;
  startedAt?: string;
  restartCount?: number;
  health?: string;
}

export interface NetworkingEvidence {
  kind: 'dms' | 'postfix';
  networkMode?: string;
}

export interface MailServerRuntime {
  /** Running? ok = running. */
  state(): Promise<StepOutcome<ServerState>>;
  /** Starts or stops the mail server, once per `onceKey` (see docs/runbooks.md, "Exactly once"). */
  setRunning(running: boolean, onceKey: string): Promise<StepOutcome<{ done: string }>>;
  /** A container on the host's network exposes every port it listens on; a host has no such setting. */
  networking(): Promise<StepOutcome<NetworkingEvidence>>;
}

type DmsServer = Extract<MailServer, { kind: 'dms' }>;

function containerRuntime(target: Target, server: DmsServer): MailServerRuntime {
  const name = server.docker.container;
  const runtime: MailServerRuntime = {
    async state() {
      const engine = await mailServerEngine(target);
      let s: ServerState;
      try {
        const info = await engine.docker.getContainer(name).inspect();
        s = {
          kind: 'dms',
          where: `container ${name} @ ${engine.description}`,
          state: info.State.Status,
          running: info.State.Running,
          startedAt: info.State.StartedAt,
          restartCount: info.RestartCount,
          ...(info.State.Health?.Status && { health: info.State.Health.Status }),
        };
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) {
          throw ApplicationFailure.nonRetryable(
            `container ${name} does not exist on ${engine.description}`,
            ERROR_TYPE.notFound,
          );
        }
        throw asFailure(err, `docker inspect ${name}`);
      }
      return outcome(s.running, `${s.where} is ${s.state}${s.health ? ` (${s.health})` : ''}`, s);
    },

    async setRunning(running, onceKey) {
      const done = running ? 'start' : 'stop';
      // The engine API leaves no marker on the host: a retry asks the container itself. Already in the
      // wanted state means an earlier attempt (or someone) did it; it is not done again.
      if (attemptNumber() > 1) {
        const now = await runtime.state();
        if (now.evidence.running === running) {
          const since = now.evidence.startedAt ? `, started ${now.evidence.startedAt}` : '';
          return outcome(
            true,
            `container ${name} already ${running ? 'running' : 'stopped'}${since} (an earlier attempt applied it; not repeated)`,
            { done },
          );
        }
      }
      beat({ intent: { onceKey, container: name, want: done, at: isoTime(Math.floor(Date.now() / 1000)) } });
      const engine = await mailServerEngine(target);
      const container = engine.docker.getContainer(name);
      try {
        if (running) await container.start();
        else await container.stop({ t: 30 });
      } catch (err) {
        // 304: already in the wanted state, which is what a retried start/stop should find.
        if ((err as { statusCode?: number }).statusCode !== 304)
          throw asFailure(err, `docker ${running ? 'start' : 'stop'} ${name}`);
      }
      return outcome(true, `container ${name} ${running ? 'started' : 'stopped'}`, { done });
    },

    async networking() {
      const engine = await mailServerEngine(target);
      let networkMode: string;
      try {
        networkMode = (await engine.docker.getContainer(name).inspect()).HostConfig.NetworkMode ?? '';
      } catch (err) {
        throw asFailure(err, `docker inspect ${name}`);
      }
      const host = networkMode === 'host';
      return outcome(
        !host,
        host
          ? `container ${name} uses host networking: every port it listens on is exposed, and PERMIT_DOCKER trusts the host's networks`
          : `container ${name} network mode ${networkMode || 'default'}`,
        { kind: 'dms', networkMode },
      );
    },
  };
  return runtime;
}

function unitRuntime(target: Target): MailServerRuntime {
  return {
    async state() {
      const host = await mailServerHost(target);
      const r = await run(host, () => postfixHostCommands.serviceIsActive());
      const state = r.stdout.trim() || `exit ${r.exitCode}`;
      const running = state === 'active';
      return outcome(running, `postfix on ${host.description} is ${state}`, {
        kind: 'postfix',
        where: host.description,
        state,
        running,
      });
    },

    async setRunning(running, onceKey) {
      const host = await mailServerHost(target);
      const on = { host, commands: mailServerCommandsFor(target.mailServer) };
      // A retry after an earlier attempt died or failed: is the unit in the wanted state already?
      const inWantedState = async (): Promise<string | undefined> => {
        const r = await run(host, () => postfixHostCommands.serviceIsActive());
        const active = r.stdout.trim() === 'active';
        return active === running ? `postfix is ${r.stdout.trim() || `exit ${r.exitCode}`}` : undefined;
      };
      const result = await commandOnce(
        onceKey,
        on,
        () => postfixHostCommands.serviceSet(running),
        () => `postfix ${running ? 'started' : 'stopped'} on ${host.description}`,
        inWantedState,
      );
      return { ...result, evidence: { done: running ? 'start' : 'stop' } };
    },

    async networking() {
      return outcome(true, 'plain Postfix host: no container networking to audit', { kind: 'postfix' });
    },
  };
}

export function mailServerRuntime(target: Target): MailServerRuntime {
  const server = target.mailServer;
  return server.kind === 'dms' ? containerRuntime(target, server) : unitRuntime(target);
}
