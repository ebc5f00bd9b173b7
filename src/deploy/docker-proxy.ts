/**
 * A Docker socket proxy that lets the worker run commands in one container and nothing else
 * (`mail-runbooks-docker-proxy`, deploy/compose.yaml, docs/deploy.md). It listens on a unix socket, answers
 * 403 to every Engine API call outside a short allow-list, and forwards the rest to the engine socket,
 * including the upgraded raw stream of an exec that reads stdin, whose half-close (the end of stdin) it
 * passes on: HAProxy drops an upgrade request with a body, and nginx ends the whole tunnel at the first
 * half-close, so neither can carry `docker exec -i`.
 *
 * Environment: MRB_PROXY_CONTAINER (the one container; default mailserver), MRB_PROXY_SOCKET (where to
 * listen; default /run/docker-proxy/docker.sock), MRB_PROXY_ENGINE (the engine; default
 * /var/run/docker.sock).
 */
import { chmod, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

const VERSION_PREFIX = '(?:/v[0-9]+\\.[0-9]+)?';
const EXEC_ID = '[0-9a-f]{64}';
const CONTAINER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** The allowed calls: method and path (no query string), for the container named. */
function allowList(container: string): Array<[string, RegExp]> {
  const name = container.replace(/\./g, '\\.');
  const path = (p: string) => new RegExp(`^${VERSION_PREFIX}${p}$`);
  return [
    ['GET', path('/(?:_ping|version)')],
    ['HEAD', path('/_ping')],
    ['GET', path(`/containers/${name}/json`)],
    ['POST', path(`/containers/${name}/exec`)],
    ['POST', path(`/exec/${EXEC_ID}/start`)],
    ['GET', path(`/exec/${EXEC_ID}/json`)],
  ];
}

/**
 * Whether the engine may see this request. The raw target is checked as sent: a query string, a
 * %-escape, `..` or `//` is refused outright rather than normalised (the engine would normalise it its own way).
 */
export function allowedDockerCall(method: string, target: string, container: string): boolean {
  if (!CONTAINER_NAME.test(container)) return false;
  if (/[?%#]|\.\.|\/\//.test(target)) return false;
  return allowList(container).some(([m, p]) => m === method && p.test(target));
}

export interface DockerProxyOptions {
  container: string;
  listen: string;
  engine: string;
  log?: (line: string) => void;
}

function refuse(res: ServerResponse): void {
  res.writeHead(403, { 'Content-Type': 'application/json', Connection: 'close' });
  res.end('{"message":"refused by the mail-runbooks docker proxy"}\n');
}

/** The request line and headers, as received, for a raw (upgrade) forward. */
function rawHead(req: IncomingMessage): string {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Pipes two sockets both ways; each side's end (half-close) is passed on, not turned into a close. */
function splice(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const destroyBoth = () => {
    a.destroy();
    b.destroy();
  };
  a.once('error', destroyBoth);
  b.once('error', destroyBoth);
  a.once('close', () => b.destroy());
  b.once('close', () => a.destroy());
}

export async function startDockerProxy(options: DockerProxyOptions): Promise<{ close(): Promise<void> }> {
  const { container, engine } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  if (!CONTAINER_NAME.test(container)) throw new Error(`invalid container name '${container}'`);
  const allowed = (req: IncomingMessage) => allowedDockerCall(req.method ?? '', req.url ?? '', container);
  // http.Server keeps its sockets half-open: the end of an exec's stdin does not close the output direction.
  const server = createServer((req, res) => {
    if (!allowed(req)) {
      log(`docker-proxy: 403 ${req.method} ${req.url}`);
      req.resume();
      return refuse(res);
    }
    const upstream = request(
      { socketPath: engine, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      log(`docker-proxy: engine: ${err.message}`);
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  // An exec that reads stdin asks for an upgrade to a raw stream: forwarded byte for byte.
  server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
    if (!allowed(req)) {
      log(`docker-proxy: 403 ${req.method} ${req.url}`);
      client.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = connect({ path: engine, allowHalfOpen: true });
    upstream.once('connect', () => {
      upstream.write(rawHead(req));
      if (head.length > 0) upstream.write(head);
      splice(client, upstream);
    });
    upstream.once('error', () => client.destroy());
  });
  await rm(options.listen, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listen, () => resolve());
  });
  // The worker runs as another user: the socket is for whoever can reach the folder it is in.
  await chmod(options.listen, 0o666);
  log(`docker-proxy: ${options.listen} -> ${engine}, exec in container ${container} only`);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The process: `mail-runbooks-docker-proxy`, until SIGTERM or SIGINT. */
export async function runDockerProxy(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const proxy = await startDockerProxy({
    container: env.MRB_PROXY_CONTAINER || 'mailserver',
    listen: env.MRB_PROXY_SOCKET || '/run/docker-proxy/docker.sock',
    engine: env.MRB_PROXY_ENGINE || '/var/run/docker.sock',
  });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await proxy.close();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runDockerProxy().catch((err: unknown) => {
    console.error(`docker-proxy: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
