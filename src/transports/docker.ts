/**
 * Commands in a container through the engine API (exec create + start), the argument vector passed as is.
 * Output is demultiplexed into stdout/stderr as it streams (docker-demux.ts); the exit code comes from exec inspect.
 */
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { DockerStreamDemux } from './docker-demux.js';
import { connectEngine } from './docker-engine.js';
import type { DockerEngine, DockerEngineSpec } from './docker-engine.js';
import { classifyDockerError } from './docker-errors.js';
import { runLimited, unlessNotStarted } from './limits.js';
import { markerKillArgv, newMarker } from './marker-kill.js';
import type { OutputSinks, StartedCommand } from './limits.js';
import { drained } from './streams.js';
import { TransportError } from './types.js';
import type { ExecRequest, ExecResult, HostTransport } from './types.js';

export interface DockerTransportOptions {
  readonly engine: DockerEngineSpec;
  readonly container: string;
  /** Bound on reaching the engine and getting each response's headers. Default 10 s. */
  readonly connectTimeoutMs?: number;
}

/** The container runtime's own report (on stdout, exit 126/127) that the program could not be executed. */
const RUNTIME_EXEC_FAILED =
  /^OCI runtime exec failed: .*(?:executable file not found|no such file or directory|permission denied)/;

/** Docker may flag an exec as finished a moment after its stream ended; ask this often, this long apart. */
const INSPECT_ATTEMPTS = 40;
const INSPECT_INTERVAL_MS = 25;

export class DockerTransport implements HostTransport {
  readonly description: string;
  private readonly engine: DockerEngine;

  constructor(private readonly options: DockerTransportOptions) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(options.container)) {
      throw new TransportError('config', `invalid container name or id '${options.container}'`);
    }
    this.engine = connectEngine(options.engine, options.connectTimeoutMs);
    this.description = `docker exec ${options.container} @ ${this.engine.description}`;
  }

  async exec(request: ExecRequest): Promise<ExecResult> {
    const label = `'${request.argv[0]}' in ${this.description}`;
    const result = await runLimited(request, label, (sinks) =>
      this.start(request, sinks).catch((error: unknown) => {
        throw classifyDockerError(error, this.options.container, this.engine.description);
      }),
    );
    return unlessNotStarted(result, 'stdout', RUNTIME_EXEC_FAILED, label);
  }

  close(): Promise<void> {
    return this.engine.close();
  }

  private async start(request: ExecRequest, sinks: OutputSinks): Promise<StartedCommand> {
    const container = this.engine.docker.getContainer(this.options.container);
    // Docker has no call to kill an exec; the marker lets kill() find its processes (see marker-kill.ts).
    const marker = newMarker();
    const withStdin = request.stdin !== undefined;
    const exec = await container.exec({
      Cmd: [...request.argv],
      Env: [marker],
      AttachStdin: withStdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    // Hijacking (a raw two-way connection) is only needed to write stdin.
    const stream = await exec.start({ hijack: withStdin, stdin: withStdin });
    const demux = new DockerStreamDemux(sinks.stdout, sinks.stderr);
    stream.on('data', (chunk: Buffer) => demux.push(chunk));
    // Ending our side tells the engine to close the command's stdin.
    if (withStdin) stream.end(request.stdin);

    return {
      exited: this.exitCode(exec, stream),
      kill: () => this.kill(container, marker, stream),
    };
  }

  private async exitCode(exec: Docker.Exec, stream: Duplex): Promise<number | null> {
    await drained(stream);
    for (let attempt = 0; attempt < INSPECT_ATTEMPTS; attempt += 1) {
      const info = await exec.inspect().catch((error: unknown) => {
        throw classifyDockerError(error, this.options.container, this.engine.description);
      });
      if (!info.Running) return info.ExitCode;
      await sleep(INSPECT_INTERVAL_MS);
    }
    throw new TransportError(
      'unreachable',
      `${this.description}: the output ended but the engine still reports the command running`,
    );
  }

  private async kill(container: Docker.Container, marker: string, stream: Duplex): Promise<void> {
    stream.destroy();
    try {
      const killer = await container.exec({
        Cmd: markerKillArgv(marker),
        AttachStdout: true,
        AttachStderr: true,
      });
      const output = await killer.start({});
      output.resume();
      await drained(output);
    } catch {
      // Best effort: the container may be gone or have no shell; the caller reports the timeout anyway.
    }
  }
}
