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
