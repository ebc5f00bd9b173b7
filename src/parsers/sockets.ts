/** Address helpers shared by the `ss` and Windows `netstat` parsers. */

export interface ListeningEndpoint {
  /** Local address as printed without brackets: "0.0.0.0", "127.0.0.1", "::", "*". */
  readonly address: string;
  readonly port: number;
}

/** Splits "127.0.0.1:25", "[::]:22", "*:25", "127.0.0.53%lo:53" at the last ':' (IPv6 is bracketed). */
export function splitHostPort(text: string): { address: string; port: number; iface?: string } | undefined {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const portText = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  let host = text.slice(0, colon);
  let iface: string | undefined;
  const pct = host.indexOf('%');
  if (pct >= 0) {
    iface = host.slice(pct + 1).replace(/\]$/, '');
    host = host.slice(0, pct) + (host.startsWith('[') ? ']' : '');
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { address: host, port: Number(portText), ...(iface !== undefined && { iface }) };
}

const WILDCARDS = new Set(['*', '0.0.0.0', '::', '[::]']);

/**
 * True when something listens on `port`, on `address` if given (a wildcard listener counts for any
 * address; 127.0.0.1 and ::1 count for "localhost").
 */
export function isListeningOn(
  sockets: readonly ListeningEndpoint[],
  port: number,
  address?: string,
): boolean {
  return sockets.some((s) => {
    if (s.port !== port) return false;
    if (address === undefined || WILDCARDS.has(s.address)) return true;
    if (address === 'localhost') return s.address === '127.0.0.1' || s.address === '::1';
    return s.address === address;
  });
}
