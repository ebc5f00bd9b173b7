/**
 * `hostkey <host> [port]`: reads the SSH host key a server presents and, once the operator has compared it
 * with the server's own (out of band) and confirmed, prints the line to paste as the config's `hostKey`.
 * Scripts that compared it otherwise pass --yes. Nothing is authenticated and no key of ours is used.
 */
import { isIP } from 'node:net';
import type { Command } from 'commander';
import { scanHostKey } from '../transports/host-key-scan.js';
import { TransportError } from '../transports/types.js';
import { CliError, context, errorLine, output, seconds, type OutputOptions } from './output.js';

/** A DNS name (letters, digits, dots, hyphens) or an IP address. */
const HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;

export function parsePort(value: string | undefined): number {
  if (value === undefined) return 22;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new CliError(`port "${value}" is not a TCP port (1-65535)`);
  return port;
}

export function registerHostKeyCommand(program: Command): void {
  program
    .command('hostkey')
    .description(
      "read an SSH server's host key and, after you confirm it matches the server's own, print the config line that pins it",
    )
    .argument('<host>', 'SSH server name or address, as the worker will reach it')
    .argument('[port]', 'SSH port', '22')
    .option('-y, --yes', 'print without asking (only after comparing the fingerprint out of band)')
    .option('--timeout <seconds>', 'give up on the server after this long', '10')
    .option('--json', 'machine-readable output')
    .action(
      async (host: string, portText: string, opts: OutputOptions & { yes?: boolean; timeout: string }) => {
        if (isIP(host) === 0 && !HOSTNAME.test(host))
          throw new CliError(`host "${host}" is not a host name or address`);
        const port = parsePort(portText);
        const timeoutMs = Math.round(seconds(opts.timeout, '--timeout', 10) * 1000);
        let key;
        try {
          key = await scanHostKey(host, port, timeoutMs);
        } catch (err) {
          if (err instanceof TransportError) throw new CliError(errorLine(err));
          throw err;
        }
        const { io } = context();
        const line = `hostKey: '${key.fingerprint}'`;
        if (!opts.yes) {
          io.stderr(
            [
              `${host}:${port} presents this ${key.keyType} host key:`,
              `  ${key.fingerprint}`,
              'Compare it with the key on the server itself, over a channel you trust (its console, or its',
              'administrator): ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub (or the key of this type).',
              '',
            ].join('\n'),
          );
          if (!io.ask)
            throw new CliError(
              'not confirmed: run hostkey in a terminal to confirm, or pass --yes once you have compared the fingerprint',
            );
          const answer = (await io.ask('Is it the same? [y/N] ')).trim().toLowerCase();
          if (answer !== 'y' && answer !== 'yes')
            throw new CliError(
              `not confirmed: nothing to pin. A different key means you are not talking to ${host}, or its key changed: find out which before pinning anything`,
            );
        }
        if (!opts.json)
          io.stderr(
            'Paste this line into the ssh section that reaches this host (targets[].relay.ssh, mailServer.ssh or docker.engine):\n',
          );
        output(opts, { host, port, keyType: key.keyType, fingerprint: key.fingerprint, line }, line);
      },
    );
}
