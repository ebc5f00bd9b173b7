/**
 * A loopback fake SMTP server for unit tests of the SMTP clients (the open-relay probe, the provider relay
 * login): it greets, then hands each command line to `answer`, which writes the reply (or ends the session).
 * Every line it received is kept, one list per connection.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface FakeSmtp {
  server: Server;
  port: number;
  /** The command lines of each connection, in order. */
  sessions: string[][];
  close(): Promise<void>;
}

export async function fakeSmtpServer(
  greeting: string,
  answer: (line: string, socket: Socket) => void,
): Promise<FakeSmtp> {
  const sessions: string[][] = [];
  const server = createServer((socket) => {
    const seen: string[] = [];
    sessions.push(seen);
    socket.write(`${greeting}\r\n`);
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        seen.push(line);
        answer(line, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    sessions,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
