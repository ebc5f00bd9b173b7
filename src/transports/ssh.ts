/**
 * Commands on a remote host over SSH: key authentication, a pinned host key, one connection reused for
 * every command (a session channel each). SSH carries a command string, so the argument vector is quoted
 * for the remote shell flavour (see quoting.ts).
 */
import type { ClientChannel } from 'ssh2';
import { runLimited, unlessNotStarted } from './limits.js';
import type { OutputSinks, StartedCommand } from './limits.js';
import { markerKillArgv, newMarker } from './marker-kill.js';
import { posixCommandLine, powerShellCommandLine } from './quoting.js';
import type { RemoteShell } from './quoting.js';
import { SshConnection } from './ssh-connection.js';
import type { SshEndpoint } from './ssh-connection.js';
import { drained } from './streams.js';
import { TransportError } from './types.js';
import type { ExecRequest, ExecResult, HostTransport } from './types.js';

/** What sh (dash, bash) prints when `exec` cannot run the program (exit 127 not found, 126 not executable). */
const SHELL_EXEC_FAILED = /\bexec: .*(?:not found|Permission denied)/;

export interface SshTransportOptions extends SshEndpoint {
  /** 'posix' for Linux/Unix login shells; 'powershell' for OpenSSH on Windows with PowerShell as DefaultShell. */
  readonly shell: RemoteShell;
}

export class SshTransport implements HostTransport {
  readonly description: string;
  private readonly connection: SshConnection;

  constructor(private readonly options: SshTransportOptions) {
    this.connection = new SshConnection(options);
    this.description = `ssh ${this.connection.address} (${options.shell})`;
  }

  async exec(request: ExecRequest): Promise<ExecResult> {
    const label = `'${request.argv[0]}' on ${this.description}`;
    const result = await runLimited(request, label, async (sinks) => {
      // POSIX targets get a marker so a timeout can find the command's processes (see marker-kill.ts).
      const marker = this.options.shell === 'posix' ? newMarker() : undefined;
      const command = marker
        ? `export ${marker}; ${posixCommandLine(request.argv)}`
        : powerShellCommandLine(request.argv);
      const channel = await this.connection.exec(command);
      return attach(channel, sinks, request.stdin, this.connection.address, () =>
        marker ? this.killByMarker(marker) : Promise.resolve(),
      );
    });
    return this.options.shell === 'posix'
      ? unlessNotStarted(result, 'stderr', SHELL_EXEC_FAILED, label)
      : result;
  }

  /** Runs the marker kill on a channel of its own; best effort, like the signal. */
  private async killByMarker(marker: string): Promise<void> {
    try {
      const killer = await this.connection.exec(posixCommandLine(markerKillArgv(marker)));
      killer.resume();
      killer.stderr.resume();
      killer.end();
      await new Promise((resolve) => killer.once('close', resolve));
    } catch {
      // connection gone: nothing more we can do from here
    }
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

function attach(
  channel: ClientChannel,
  sinks: OutputSinks,
  stdin: string | undefined,
  address: string,
  killByMarker: () => Promise<void>,
): StartedCommand {
  let exitCode: number | null | undefined;
  // exit-status carries a number; exit-signal carries null (and the signal name).
  channel.on('exit', (code: number | null) => {
    exitCode = typeof code === 'number' ? code : null;
  });
  channel.on('data', sinks.stdout);
  channel.stderr.on('data', sinks.stderr);
  channel.on('error', () => undefined); // surfaced as a missing exit status below
  // EOF on stdin either way, so a command that reads its input does not wait for more.
  channel.end(stdin);

  const closed = new Promise<void>((resolve) => channel.once('close', resolve));
  const exited = (async (): Promise<number | null> => {
    await Promise.all([closed, drained(channel), drained(channel.stderr)]);
    if (exitCode === undefined) {
      throw new TransportError(
        'unreachable',
        `the connection to ${address} ended before the command reported an exit status`,
      );
    }
    return exitCode;
  })();

  return {
    exited,
    kill: async () => {
      sendKill(channel);
      await killByMarker();
      channel.close();
      await closed;
    },
  };
}

/** The parts of ssh2's channel that `signal()` uses, reached directly for the reason below. */
interface ChannelInternals {
  readonly outgoing?: { readonly id?: unknown; readonly state?: unknown };
  readonly _client?: { readonly _protocol?: { signal?: (channelId: number, signal: string) => void } };
}

/**
 * Asks sshd to KILL the command. OpenSSH (>= 7.9) answers a "signal" request with killpg() on the
 * session's process group, so what the command started dies too; it refuses for root logins (no privilege
 * separation there), which is what the marker kill is for. ssh2's public `signal()` sends nothing
 * once our side is no longer writable, and we always send EOF after stdin, so the request goes through
 * the channel's protocol object (ssh2 1.x internals; the integration test notices if they change).
 * Servers without signal support (Windows OpenSSH) ignore it: the command is then left running.
 */
function sendKill(channel: ClientChannel): void {
  const { outgoing, _client: client } = channel as unknown as ChannelInternals;
  const protocol = client?._protocol;
  try {
    if (typeof outgoing?.id === 'number' && outgoing.state !== 'closed' && protocol?.signal) {
      protocol.signal(outgoing.id, 'KILL');
    } else {
      channel.signal('KILL');
    }
  } catch {
    // The channel or connection is already gone.
  }
}
