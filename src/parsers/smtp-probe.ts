/**
 * Output of `posttls-finger -l none` (commands/posix.ts smtpProbe): did the server greet with 220 and
 * answer EHLO with 250? posttls-finger exits 0 either way, so this is the verdict.
 *   posttls-finger: Connected to relay.lab.test[<address>]:2526
 *   posttls-finger: < 220 relay.lab.test ESMTP lab relay
 *   posttls-finger: > EHLO mail.lab.test
 *   posttls-finger: < 250-relay.lab.test
 *   posttls-finger: Failed to establish session to [relay.lab.test]:2599 via ...: Connection refused
 */
import { lines } from './errors.js';

export interface SmtpProbe {
  connected: boolean;
  greeting?: string;
  ehloOk: boolean;
  /** The line that says what went wrong, when something did. */
  problem?: string;
}

export function parseSmtpProbe(text: string): SmtpProbe {
  const body = lines(text)
    .map((l) => l.replace(/^posttls-finger: /, ''))
    .filter((l) => l.trim() !== '' && !/^warning: (DNSSEC|reason: dnssec)/.test(l));
  const connected = body.some((l) => l.startsWith('Connected to '));
  const greeting = body.find((l) => /^< \d{3}[ -]/.test(l))?.slice(2);
  const ehloAt = body.findIndex((l) => l.startsWith('> EHLO'));
  const ehloOk = ehloAt >= 0 && body.slice(ehloAt + 1).some((l) => /^< 250[ -]/.test(l));
  const ok = connected && greeting?.startsWith('220') === true && ehloOk;
  const problem = ok
    ? undefined
    : (body.find((l) => /fail|refused|timed out|timeout|lost connection|error|not found/i.test(l)) ??
      (greeting && !greeting.startsWith('220') ? `greeting: ${greeting}` : undefined) ??
      (connected ? 'connected, but no SMTP greeting or EHLO answer' : 'no connection'));
  return {
    connected,
    ...(greeting !== undefined && { greeting }),
    ehloOk,
    ...(problem !== undefined && { problem }),
  };
}

/**
 * Output of `posttls-finger -l may`, or `-w -l encrypt` for implicit TLS (commands/mail-server.ts
 * smtpTlsProbe): the plain probe's verdict, plus whether STARTTLS was offered, how the handshake went and
 * which AUTH mechanisms the server offers (after TLS when it took place: servers usually offer AUTH only
 * there). With implicit TLS the handshake comes before the greeting, and a failed one ends the session:
 *   posttls-finger: SSL_connect error to relay.lab.test[<address>]:2526: -1
 *   posttls-finger: warning: TLS library problem: error:0A00010B:SSL routines::wrong version number:...:
 *   posttls-finger: < 250-STARTTLS
 *   posttls-finger: Untrusted TLS connection established to relay.lab.test[<address>]:2526: TLSv1.3 with cipher ...
 *   posttls-finger: < 250-AUTH PLAIN LOGIN
 */
export interface SmtpTlsProbe extends SmtpProbe {
  starttlsOffered: boolean;
  /** The handshake's line from "<Trust> TLS connection established", e.g. "Untrusted TLSv1.3 with cipher ...". */
  tls?: string;
  /** Why TLS did not come up, when STARTTLS was offered (or implicit TLS tried) and it did not. */
  tlsProblem?: string;
  /** Mechanisms of the last AUTH line (e.g. ["PLAIN", "LOGIN"]); empty when none was offered. */
  authMechanisms: string[];
}

const TLS_ESTABLISHED = /^(\w+) TLS connection established to \S+?: (.*)$/;

/** Why an implicit TLS handshake failed: OpenSSL's reason ("wrong version number"), else posttls-finger's line. */
function implicitTlsProblem(body: readonly string[]): string {
  const library = body.find((l) => l.includes('TLS library problem'));
  const reason = library && /SSL routines:[^:]*:([^:]+):/.exec(library)?.[1];
  return (
    reason ||
    body.find((l) => /SSL_connect|handshake|TLS/i.test(l) && /error|fail/i.test(l)) ||
    'no TLS session came up'
  );
}

export function parseSmtpTlsProbe(text: string, mode: 'starttls' | 'implicit' = 'starttls'): SmtpTlsProbe {
  const plain = parseSmtpProbe(text);
  const body = lines(text).map((l) => l.replace(/^posttls-finger: /, ''));
  const starttlsOffered = body.some((l) => /^< 250[ -]STARTTLS\s*$/i.test(l));
  const established = body.map((l) => TLS_ESTABLISHED.exec(l)).find((m) => m !== null);
  const tls = established ? `${established[1]} ${established[2]}` : undefined;
  const afterStarttls = body.slice(body.findIndex((l) => l.startsWith('> STARTTLS')) + 1);
  let tlsProblem: string | undefined;
  if (!tls && mode === 'implicit' && plain.connected) tlsProblem = implicitTlsProblem(body);
  else if (!tls && mode === 'starttls' && starttlsOffered)
    tlsProblem =
      afterStarttls.find((l) => /fail|error|lost connection|timed out|refused|^< [45]\d\d/i.test(l)) ??
      'STARTTLS offered, but no TLS session came up';
  const AUTH = /^< 250[ -]AUTH[ =]/i;
  const authLine = body.filter((l) => AUTH.test(l)).at(-1);
  const authMechanisms = authLine ? authLine.replace(AUTH, '').trim().split(/\s+/).filter(Boolean) : [];
  return {
    ...plain,
    starttlsOffered,
    ...(tls !== undefined && { tls }),
    ...(tlsProblem !== undefined && { tlsProblem }),
    authMechanisms,
  };
}
