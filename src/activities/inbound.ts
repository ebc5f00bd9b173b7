/**
 * The inbound path through amavis, wired like docker-mailserver: Postfix hands mail to amavis on
 * 127.0.0.1:10024 (content_filter) and amavis re-injects it into Postfix's smtpd on 127.0.0.1:10025.
 */
import {
  findService,
  isListeningOn,
  parseSmtpProbe,
  parsePostconf,
  parsePostconfMaster,
  parseSs,
  type SmtpProbe,
  type SsSocket,
} from '../parsers/index.js';
import type { StepOutcome } from '../shared/types.js';
import { onMailServer } from './context.js';
import { outcome } from './outcome.js';
import { runOk } from './run.js';
import { waitForOutcome } from './wait.js';

const FILTER_PORT = 10024;
const REINJECTION_PORT = 10025;

export interface AmavisEvidence {
  filter: boolean;
  reinjection: boolean;
  sockets: Array<Pick<SsSocket, 'address' | 'port' | 'processes'>>;
}

/** Is amavis listening on 10024, and Postfix's re-injection smtpd on 10025? */
export async function amavisListening(targetName: string): Promise<StepOutcome<AmavisEvidence>> {
  const { host, commands } = await onMailServer(targetName);
  const r = await runOk(host, () => commands.listeningSockets());
  const sockets = parseSs(r.stdout);
  const filter = isListeningOn(sockets, FILTER_PORT, '127.0.0.1');
  const reinjection = isListeningOn(sockets, REINJECTION_PORT, '127.0.0.1');
  const missing = [
    !filter && `amavis (${FILTER_PORT})`,
    !reinjection && `re-injection (${REINJECTION_PORT})`,
  ].filter(Boolean);
  return outcome(
    missing.length === 0,
    missing.length
      ? `not listening: ${missing.join(', ')}`
      : `amavis listens on ${FILTER_PORT}, re-injection on ${REINJECTION_PORT}`,
    {
      filter,
      reinjection,
      sockets: sockets
        .filter((s) => s.port === FILTER_PORT || s.port === REINJECTION_PORT)
        .map((s) => ({ address: s.address, port: s.port, processes: s.processes })),
    },
  );
}

/**
 * Does amavis answer on 10024 the way Postfix's smtp-amavis client meets it (greeting and EHLO)? A hung
 * amavis still listens, and supervisord still says RUNNING: mail is deferred with dsn=4.4.2 "timed out
 * while receiving the initial server greeting".
 */
export async function amavisAnswers(targetName: string): Promise<StepOutcome<SmtpProbe>> {
  const { host, commands } = await onMailServer(targetName);
  const r = await runOk(host, () => commands.smtpProbe('127.0.0.1', FILTER_PORT, 10));
  const probe = parseSmtpProbe(`${r.stdout}\n${r.stderr}`);
  const ok = probe.problem === undefined;
  return outcome(
    ok,
    ok
      ? `amavis answers on ${FILTER_PORT}: ${probe.greeting}`
      : `amavis listens on ${FILTER_PORT} but does not answer SMTP (hung): ${probe.problem}`,
    probe,
  );
}

/** Waits (bounded, 2 minutes) until amavis listens again after a restart. */
export async function waitAmavisListening(targetName: string): Promise<StepOutcome<AmavisEvidence>> {
  return waitForOutcome(120, 3_000, () => amavisListening(targetName), {
    done: 'amavis listens again',
    notDone: 'amavis still not listening',
  });
}

export interface ReinjectionEvidence {
  contentFilter: string;
  service?: { name: string; type: string; command: string; overrides: Record<string, string> };
}

/** master.cf has the 127.0.0.1:10025 smtpd that takes mail back from amavis, and main.cf sends mail to amavis. */
export async function reinjectionService(targetName: string): Promise<StepOutcome<ReinjectionEvidence>> {
  const { host, commands } = await onMailServer(targetName);
  const [master, main] = await Promise.all([
    runOk(host, () => commands.postconfMaster()),
    runOk(host, () => commands.postconfNonDefault()),
  ]);
  const service = findService(parsePostconfMaster(master.stdout), `127.0.0.1:${REINJECTION_PORT}`, 'inet');
  const contentFilter = parsePostconf(main.stdout).content_filter ?? '';
  const evidence: ReinjectionEvidence = {
    contentFilter,
    ...(service && {
      service: {
        name: service.name,
        type: service.type,
        command: service.command,
        overrides: { ...service.overrides },
      },
    }),
  };
  if (!contentFilter) return outcome(true, 'no content_filter: mail does not pass through amavis', evidence);
  if (!service)
    return outcome(
      false,
      `content_filter is ${contentFilter} but master.cf has no 127.0.0.1:${REINJECTION_PORT} smtpd`,
      evidence,
    );
  if (service.command !== 'smtpd') {
    return outcome(
      false,
      `127.0.0.1:${REINJECTION_PORT} in master.cf runs ${service.command}, not smtpd`,
      evidence,
    );
  }
  return outcome(
    true,
    `content_filter ${contentFilter}; re-injection smtpd on 127.0.0.1:${REINJECTION_PORT}`,
    evidence,
  );
}
