/**
 * SMTP replies (RFC 5321 section 4.2): "250-first line" ... "250 last line", optionally with an enhanced
 * status code (RFC 3463) after the reply code. Used by the open-relay probe, which talks SMTP itself.
 */
import { excerpt, lines, ParseError } from './errors.js';

export interface SmtpReply {
  readonly code: number;
  /** e.g. "5.7.1", when the server sends one. */
  readonly enhanced?: string;
  /** The text of every line, joined by a space, without codes. */
  readonly text: string;
  /** The text of each line without its code (EHLO lists one extension per line). */
  readonly lines: readonly string[];
}

const LINE = /^(\d{3})([ -])(.*)$/;

/**
 * Splits complete reply lines off the front of a buffer. Returns the reply and the rest when the buffer
 * holds a whole reply (its last line has a space after the code), else undefined.
 */
export function takeSmtpReply(buffer: string): { reply: SmtpReply; rest: string } | undefined {
  let offset = 0;
  const texts: string[] = [];
  let code: string | undefined;
  for (;;) {
    const end = buffer.indexOf('\n', offset);
    if (end < 0) return undefined;
    const raw = buffer.slice(offset, end).replace(/\r$/, '');
    offset = end + 1;
    const m = LINE.exec(raw) ?? (/^\d{3}$/.test(raw) ? [raw, raw, ' ', ''] : null);
    if (!m) throw new ParseError('smtp reply', `not an SMTP reply line: ${excerpt(raw)}`);
    if (code !== undefined && m[1] !== code) {
      throw new ParseError('smtp reply', `reply code changed within a reply: ${excerpt(raw)}`);
    }
    code = m[1];
    texts.push((m[3] ?? '').trim());
    if (m[2] === ' ') break;
  }
  const first = texts[0] ?? '';
  const enhanced = /^([245]\.\d{1,3}\.\d{1,3})\b/.exec(first)?.[1];
  const text = texts
    .map((t, i) => (i === 0 && enhanced ? t.slice(enhanced.length).trim() : t))
    .join(' ')
    .trim();
  return {
    reply: { code: Number(code), ...(enhanced !== undefined && { enhanced }), text, lines: texts },
    rest: buffer.slice(offset),
  };
}

/** All replies in a complete transcript of server output (for tests and evidence). */
export function parseSmtpReplies(text: string): SmtpReply[] {
  let rest = lines(text).join('\n') + '\n';
  const out: SmtpReply[] = [];
  while (rest.trim() !== '') {
    const next = takeSmtpReply(rest);
    if (!next) throw new ParseError('smtp reply', `incomplete reply: ${excerpt(rest)}`);
    out.push(next.reply);
    rest = next.rest;
  }
  return out;
}

export type RelayAnswer = 'relayed' | 'relay-denied' | 'refused-otherwise';

/**
 * What a reply to `RCPT TO:<someone elsewhere>` from an unauthenticated client means. 2xx: the server
 * would relay (an open relay, for this client). 554 5.7.1 / 454 4.7.1 "Relay access denied": refused as it
 * should be. Anything else (greylisting, unknown user, a policy service) refused the mail for another reason.
 */
export function relayAnswer(reply: SmtpReply): RelayAnswer {
  if (reply.code >= 200 && reply.code < 300) return 'relayed';
  if (
    /relay access denied/i.test(reply.text) ||
    ((reply.code === 554 || reply.code === 454) && /^[45]\.7\.1$/.test(reply.enhanced ?? ''))
  ) {
    return 'relay-denied';
  }
  return 'refused-otherwise';
}

/** One line for evidence: "554 5.7.1 <x@y>: Relay access denied". */
export function formatReply(reply: SmtpReply): string {
  return [String(reply.code), reply.enhanced, reply.text].filter(Boolean).join(' ');
}
