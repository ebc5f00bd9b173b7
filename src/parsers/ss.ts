/**
 * `ss -tln` / `ss -tlnp` (iproute2). Header then one row per socket:
 *   State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess
 *   LISTEN 0      100        127.0.0.1:10025      0.0.0.0:*    users:(("master",pid=2054,fd=13))
 * The Process column is empty without -p, or when ss may not inspect the owning process.
 */
import { excerpt, lines, ParseError } from './errors.js';
import { splitHostPort, type ListeningEndpoint } from './sockets.js';

export interface SocketProcess {
  readonly name: string;
  readonly pid: number;
  readonly fd?: number;
}

export interface SsSocket extends ListeningEndpoint {
  readonly state: string;
  readonly recvQ: number;
  readonly sendQ: number;
  readonly iface?: string;
  readonly peer: string;
  readonly processes: readonly SocketProcess[];
}

const PARSER = 'ss';
const PROCESS = /\("((?:[^"\\]|\\.)*)",pid=(\d+)(?:,fd=(\d+))?\)/g;

export function parseSs(text: string): SsSocket[] {
  const all = lines(text);
  const header = all.findIndex((l) => /^(State|Netid)\s+Recv-Q\s+Send-Q/.test(l));
  if (header < 0) {
    if (all.every((l) => l.trim() === '')) return [];
    throw new ParseError(PARSER, `no "State Recv-Q Send-Q" header: ${excerpt(all[0] ?? '')}`);
  }
  const netid = all[header]?.startsWith('Netid') ?? false;
  const out: SsSocket[] = [];
  for (let i = header + 1; i < all.length; i++) {
    const l = all[i] ?? '';
    if (l.trim() === '') continue;
    const cols = l.trim().split(/\s+/);
    if (netid) cols.shift();
    const [state, recvQ, sendQ, local, peer, ...rest] = cols;
    const endpoint = local === undefined ? undefined : splitHostPort(local);
    if (
      !state ||
      !endpoint ||
      peer === undefined ||
      !/^\d+$/.test(recvQ ?? '') ||
      !/^\d+$/.test(sendQ ?? '')
    ) {
      throw new ParseError(PARSER, `not a socket row: ${excerpt(l)}`, i + 1);
    }
    const processText = rest.join(' ');
    const processes = [...processText.matchAll(PROCESS)].map((m) => ({
      name: m[1] ?? '',
      pid: Number(m[2]),
      ...(m[3] !== undefined && { fd: Number(m[3]) }),
    }));
    out.push({ state, recvQ: Number(recvQ), sendQ: Number(sendQ), ...endpoint, peer, processes });
  }
  return out;
}
