/**
 * Windows `netstat -ano`: keeps the TCP rows that listen.
 *   Proto  Local Address          Foreign Address        State           PID
 *   TCP    0.0.0.0:2526           0.0.0.0:0              LISTENING       4242
 * The State word is localised (German "ABHÖREN"), so a TCP row whose foreign port is 0 also counts as
 * listening: that is how Windows prints a socket without a peer, in every language.
 */
import { excerpt, lines, ParseError } from './errors.js';
import { splitHostPort, type ListeningEndpoint } from './sockets.js';

export interface NetstatListener extends ListeningEndpoint {
  readonly pid: number;
}

const ROW = /^\s*TCP\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\s*$/;

export function parseNetstatListening(text: string): NetstatListener[] {
  const all = lines(text);
  if (!all.some((l) => /^\s*Proto\s/.test(l) || ROW.test(l))) {
    if (all.every((l) => l.trim() === '')) throw new ParseError('netstat -ano', 'empty output');
    throw new ParseError('netstat -ano', `no "Proto ..." header or TCP rows: ${excerpt(all[0] ?? '')}`);
  }
  const out: NetstatListener[] = [];
  for (const l of all) {
    const m = ROW.exec(l);
    if (!m) continue; // headers, UDP rows (no state column), blank lines
    const [, local = '', foreign = '', state = '', pid = ''] = m;
    const peer = splitHostPort(foreign);
    if (state !== 'LISTENING' && peer?.port !== 0) continue;
    const endpoint = splitHostPort(local);
    if (!endpoint) throw new ParseError('netstat -ano', `bad local address in ${excerpt(l)}`);
    out.push({ address: endpoint.address, port: endpoint.port, pid: Number(pid) });
  }
  return out;
}
