/**
 * The submission path one layer at a time, each resting on the one below, so the first layer that breaks
 * is the cause: TCP connect -> TLS handshake and certificate -> EHLO capabilities -> AUTH. Walks up to
 * the layer asked for and stops at the first that breaks, saying which and why, with a hint for the
 * classic traps (implicit TLS on a STARTTLS port and the reverse, no AUTH offered, credentials refused).
 * Nothing is sent beyond AUTH: no MAIL, no DATA.
 */
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { SmtpReply } from '../parsers/smtp-reply.js';
import { ehloName, SmtpSession, type SmtpServerSettings } from './smtp-session.js';

export const PATH_LAYERS = ['tcp', 'tls', 'ehlo', 'auth'] as const;
export type PathLayer = (typeof PATH_LAYERS)[number];

export interface PathProbeSettings extends SmtpServerSettings {
  timeoutMs?: number;
  /** The config keys the hints point at (default: the canary's submission settings). */
  configKeys?: { tls: string; password: string };
}

const CANARY_KEYS = {
  tls: 'canary.submission.ca and servername',
  password: 'the canary password secret',
};

export interface TlsFindings {
  protocol: string;
  cipher: string;
  subject: string;
  altNames: string;
  issuer: string;
  validTo: string;
  daysLeft: number;
  fingerprint256: string;
}

export interface PathProbeResult {
  reached: PathLayer[];
  failed?: { layer: PathLayer; message: string; hint?: string };
  tcp?: { remote: string; ms: number };
  tls?: TlsFindings;
  ehlo?: { greeting: string; extensions: string[]; authMechanisms: string[] };
  auth?: { mechanism: string; reply: string };
  /** Commands and replies; the AUTH line is shown without its credentials. */
  transcript: string[];
}

class LayerFailure extends Error {
  constructor(
    readonly layer: PathLayer,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const line = (r: SmtpReply): string =>
  `${r.code}${r.enhanced ? ` ${r.enhanced}` : ''} ${r.text}`.slice(0, 300);

function certificateFindings(socket: TLSSocket): TlsFindings {
  const cert: PeerCertificate = socket.getPeerCertificate();
  const validTo = cert.valid_to ?? '';
  return {
    protocol: socket.getProtocol() ?? '?',
    cipher: socket.getCipher()?.name ?? '?',
    subject: [cert.subject?.CN ?? '?'].flat().join(', '),
    altNames: cert.subjectaltname ?? '',
    issuer: [cert.issuer?.CN ?? '?'].flat().join(', '),
    validTo,
    daysLeft: Math.floor((Date.parse(validTo) - Date.now()) / 86_400_000),
    fingerprint256: cert.fingerprint256 ?? '',
  };
}

/** Why a handshake failed, in the terms of the classic mistakes. */
function tlsHint(settings: PathProbeSettings, message: string): string | undefined {
  if (/wrong version number|packet length too long|unknown protocol/i.test(message))
    return `the server answered in plain text: port ${settings.port} wants STARTTLS (usually 587), not implicit TLS`;
  if (/certificate|self.signed|altnames|issuer/i.test(message))
    return `the certificate is not trusted for this name: check ${(settings.configKeys ?? CANARY_KEYS).tls}`;
  return undefined;
}

export async function probeSubmissionPath(
  settings: PathProbeSettings,
  upTo: PathLayer,
): Promise<PathProbeResult> {
  const last = PATH_LAYERS.indexOf(upTo);
  const timeoutMs = settings.timeoutMs ?? 20_000;
  const result: PathProbeResult = { reached: [], transcript: [] };
  const done = (layer: PathLayer): boolean => {
    result.reached.push(layer);
    return PATH_LAYERS.indexOf(layer) >= last;
  };
  let session: SmtpSession | undefined;
  let layer: PathLayer = 'tcp';
  try {
    const t0 = Date.now();
    session = await SmtpSession.connect(settings.host, settings.port, timeoutMs).catch((err: Error) => {
      throw new LayerFailure('tcp', `cannot connect to ${settings.host}:${settings.port}: ${err.message}`);
    });
    result.transcript = session.transcript;
    result.tcp = {
      remote: `${session.remoteAddress ?? settings.host}:${settings.port}`,
      ms: Date.now() - t0,
    };
    if (done('tcp')) return result;

    const s = session;
    const tlsOptions = {
      servername: settings.servername ?? settings.host,
      ...(settings.ca !== undefined && { ca: settings.ca }),
      rejectUnauthorized: true,
    };
    const handshake = async (): Promise<void> => {
      layer = 'tls';
      try {
        result.tls = certificateFindings(await s.startTls(tlsOptions));
      } catch (err) {
        // OpenSSL's "8019...:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:<file>:<line>:"
        const raw = (err as Error).message;
        const message = /SSL routines:[^:]*:([^:]+):/.exec(raw)?.[1] ?? raw.trim();
        throw new LayerFailure('tls', `TLS handshake failed: ${message}`, tlsHint(settings, message));
      }
    };
    const ehlo = async (): Promise<SmtpReply> => {
      const reply = await s.send(`EHLO ${ehloName(s.localAddress)}`);
      if (reply.code !== 250) throw new LayerFailure(layer, `EHLO refused: ${line(reply)}`);
      return reply;
    };

    let greeting: SmtpReply;
    if (settings.tls === 'implicit') {
      await handshake();
      layer = 'ehlo';
      greeting = await s.reply();
    } else {
      layer = settings.tls === 'starttls' ? 'tls' : 'ehlo';
      greeting = await s.reply().catch((err: Error) => {
        throw new LayerFailure(
          layer,
          `no SMTP greeting: ${err.message}`,
          `the server waits for the client to speak first: port ${settings.port} may want implicit TLS (usually 465)`,
        );
      });
      if (greeting.code !== 220) throw new LayerFailure(layer, `greeting refused: ${line(greeting)}`);
      if (settings.tls === 'starttls') {
        const offered = await ehlo();
        if (!offered.lines.some((l) => /^STARTTLS\b/i.test(l)))
          throw new LayerFailure('tls', 'the server does not offer STARTTLS');
        const go = await s.send('STARTTLS');
        if (go.code !== 220) throw new LayerFailure('tls', `STARTTLS refused: ${line(go)}`);
        await handshake();
      }
    }
    if (settings.tls !== 'none' && done('tls')) return result;

    layer = 'ehlo';
    if (greeting.code !== 220) throw new LayerFailure('ehlo', `greeting refused: ${line(greeting)}`);
    const caps = await ehlo();
    const extensions = caps.lines.slice(1).map((l) => l.trim().toUpperCase());
    const authLine = extensions.find((l) => /^AUTH[ =]/.test(l));
    const authMechanisms = authLine ? authLine.slice(5).split(/\s+/).filter(Boolean) : [];
    result.ehlo = { greeting: line(greeting), extensions, authMechanisms };
    if (done('ehlo')) return result;

    layer = 'auth';
    if (authMechanisms.length === 0)
      throw new LayerFailure(
        'auth',
        'the server offers no AUTH mechanism on this connection',
        settings.tls === 'none'
          ? 'servers offer AUTH only after TLS: use starttls or implicit'
          : 'submission needs smtpd_sasl_auth_enable=yes on this port (master.cf -o options)',
      );
    if (settings.user === undefined || settings.password === undefined)
      throw new LayerFailure('auth', 'no canary user and password in the config to log in with');
    const plain = authMechanisms.includes('PLAIN');
    if (!plain && !authMechanisms.includes('LOGIN'))
      throw new LayerFailure(
        'auth',
        `no PLAIN or LOGIN among the offered mechanisms (${authMechanisms.join(' ')})`,
      );
    let reply: SmtpReply;
    if (plain) {
      const token = Buffer.from(`\u0000${settings.user}\u0000${settings.password}`).toString('base64');
      reply = await s.send(`AUTH PLAIN ${token}`, 'AUTH PLAIN <credentials>');
    } else {
      await s.send('AUTH LOGIN');
      await s.send(Buffer.from(settings.user).toString('base64'), '<user>');
      reply = await s.send(Buffer.from(settings.password).toString('base64'), '<password>');
    }
    result.auth = { mechanism: plain ? 'PLAIN' : 'LOGIN', reply: line(reply) };
    if (reply.code !== 235)
      throw new LayerFailure(
        'auth',
        `login as ${settings.user} refused: ${line(reply)}`,
        reply.code === 535
          ? `wrong user or password (check ${(settings.configKeys ?? CANARY_KEYS).password})`
          : undefined,
      );
    done('auth');
    s.close(true);
    return result;
  } catch (err) {
    const failure =
      err instanceof LayerFailure
        ? err
        : new LayerFailure(layer, `${layer} failed: ${(err as Error).message}`);
    result.failed = {
      layer: failure.layer,
      message: failure.message,
      ...(failure.hint !== undefined && { hint: failure.hint }),
    };
    return result;
  } finally {
    session?.close();
  }
}
