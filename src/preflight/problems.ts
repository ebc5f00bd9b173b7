/**
 * What a first run needs (Docker, the Temporal CLI or Go, free ports, debootstrap) and what to say when it is
 * missing: pure functions from probed facts to one message each, "what is wrong" and "what to do".
 * The probes that gather the facts are in ./probes.ts; `npm start`, `npm run lab` and the integration tests'
 * setup print these messages instead of a bare `connect ENOENT /var/run/docker.sock`.
 */

export interface Problem {
  /** What is wrong, in one line. */
  problem: string;
  /** What to do about it (one or more lines). */
  fix: string;
}

/** One or more prerequisites are missing; its message is every problem with its fix, nothing else. */
export class PreflightError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'PreflightError';
  }
}

export function formatProblem(p: Problem): string {
  const fix = p.fix
    .split('\n')
    .map((line, i) => (i === 0 ? `  fix: ${line}` : `       ${line}`))
    .join('\n');
  return `${p.problem}\n${fix}`;
}

/** Throws a PreflightError when there is any problem. */
export function throwIfProblems(problems: readonly (Problem | undefined)[]): void {
  const found = problems.filter((p): p is Problem => p !== undefined);
  if (found.length > 0) throw new PreflightError(found);
}

// ---------------------------------------------------------------------------------------------- Docker

export interface DockerFacts {
  /** Where the client talks to the engine: a unix socket path, or a tcp:// address. */
  endpoint: string;
  /** The error code connecting gave (ENOENT, ECONNREFUSED, EACCES, ...); undefined when the engine answered. */
  code?: string;
  /** The error message, for codes this module has no words for. */
  message?: string;
  /** Whether a `docker` CLI or `dockerd` is on PATH (or in /usr/bin, /usr/sbin). */
  dockerInstalled: boolean;
  dockerdInstalled: boolean;
  root: boolean;
  /** The user name, for the group advice. */
  user: string;
  /** Set when this process started dockerd and it did not answer in time: the log file and its tail. */
  autoStart?: { log: string; seconds: number; tail: string };
}

const INSTALL_DOCKER =
  'install a Docker engine: on Debian/Ubuntu `sudo apt-get install docker.io` (then `sudo systemctl start docker`);\n' +
  'elsewhere see https://docs.docker.com/engine/install/. Or skip the lab with MRB_CONFIG=<your config>\n' +
  '(or MRB_LAB=off) to run against your own mail server.';

/** The problem with the Docker engine, or undefined when it answered. */
export function dockerProblem(f: DockerFacts): Problem | undefined {
  if (!f.code) return undefined;
  const where = f.endpoint;
  if (f.autoStart) {
    return {
      problem: `Docker: started dockerd, but it did not answer on ${where} within ${f.autoStart.seconds} s.`,
      fix:
        `read ${f.autoStart.log}${f.autoStart.tail ? `; its last lines:\n${f.autoStart.tail}` : ''}\n` +
        'then start it by hand (`dockerd` or `systemctl start docker`) and rerun.',
    };
  }
  if ((f.code === 'ENOENT' || f.code === 'ECONNREFUSED') && !f.dockerInstalled && !f.dockerdInstalled) {
    return {
      problem: `Docker is not installed (no docker or dockerd, nothing at ${where}).`,
      fix: INSTALL_DOCKER,
    };
  }
  if (f.code === 'ENOENT' || f.code === 'ECONNREFUSED') {
    const how = f.root
      ? '`systemctl start docker` (or run `dockerd` in another terminal)'
      : '`sudo systemctl start docker` (or `sudo dockerd` in another terminal)';
    return {
      problem: `Docker is installed but its daemon is not running (${f.code === 'ENOENT' ? 'no socket' : 'connection refused'} at ${where}).`,
      fix:
        `start it: ${how}, then rerun.` +
        (f.dockerdInstalled
          ? ''
          : '\n(dockerd is not on PATH here: install the engine package, e.g. docker.io.)') +
        (where.startsWith('unix://') && !where.endsWith('/var/run/docker.sock')
          ? `\nDOCKER_HOST points at ${where}; unset it to use the default socket.`
          : ''),
    };
  }
  if (f.code === 'EACCES' || f.code === 'EPERM') {
    return {
      problem: `Docker: no permission to use ${where} as user ${f.user}.`,
      fix:
        `add the user to the docker group: \`sudo usermod -aG docker ${f.user}\`, then log out and in (or \`newgrp docker\`);\n` +
        'or use rootless Docker (https://docs.docker.com/engine/security/rootless/) and set DOCKER_HOST to its socket;\n' +
        'or run as root.',
    };
  }
  return {
    problem: `Docker: the engine at ${where} did not answer (${f.code}${f.message ? `: ${f.message}` : ''}).`,
    fix: 'check that dockerd runs and DOCKER_HOST (if set) names it: `docker info` must work; then rerun.',
  };
}

// ---------------------------------------------------------------------------------------------- Temporal CLI

export interface TemporalCliFacts {
  /** A temporal binary was found ($MRB_TEMPORAL_BIN, PATH or the tools folder). */
  binary?: string;
  /** Go was found (it can build the pinned CLI). */
  go?: string;
  /** Where the pinned CLI is looked for and built. */
  toolsDir: string;
}

export function temporalCliProblem(f: TemporalCliFacts): Problem | undefined {
  if (f.binary || f.go) return undefined;
  return {
    problem: `No Temporal CLI (temporal) found, and Go is not installed to build it (looked in $MRB_TEMPORAL_BIN, PATH and ${f.toolsDir}).`,
    fix:
      'do one of:\n' +
      '- install Go 1.23 or later (Debian: `apt-get install golang-go`; or https://go.dev/doc/install) and rerun: the pinned CLI is built once;\n' +
      `- put a 'temporal' binary on PATH or in ${f.toolsDir}, or set MRB_TEMPORAL_BIN=/path/to/temporal;\n` +
      '- or use an existing cluster: TEMPORAL_ADDRESS=host:7233 (then no local server is started).',
  };
}

// ---------------------------------------------------------------------------------------------- ports

export interface PortWant {
  host: string;
  port: number;
  /** What needs it, e.g. "the Temporal dev server (gRPC)". */
  wantedBy: string;
  /** How to choose another port, e.g. "set MRB_UI_PORT=<port>". */
  override: string;
}

/** `holder` is what listens there when known, e.g. "temporal (pid 4242)". */
export function portProblem(want: PortWant, holder?: string): Problem {
  return {
    problem: `Port ${want.host}:${want.port} is already in use${holder ? ` by ${holder}` : ''}; ${want.wantedBy} needs it.`,
    fix:
      `free it (stop ${holder ?? 'what listens there'}; \`ss -ltnp 'sport = :${want.port}'\` shows the process),\n` +
      `or ${want.override}.`,
  };
}

/** The process that listens on a port, from `ss -Hltnp` output: "name (pid N)". */
export function listenerFromSs(ssOutput: string, port: number): string | undefined {
  for (const line of ssOutput.split('\n')) {
    const cols = line.trim().split(/\s+/);
    const local = cols[3] ?? '';
    if (!local.endsWith(`:${port}`)) continue;
    const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(line);
    if (m) return `${m[1]} (pid ${m[2]})`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------- lab base image

export function debootstrapProblem(facts: { debootstrap?: string; root: boolean }): Problem | undefined {
  if (!facts.root) {
    return {
      problem: 'The lab base image is not built yet, and building it (debootstrap) needs root.',
      fix: 'run the first `npm start` (or `npm run lab -- up`) as root once; later runs reuse the image.',
    };
  }
  if (!facts.debootstrap) {
    return {
      problem: 'The lab base image is not built yet, and debootstrap (which builds it) is not installed.',
      fix: 'install it: `apt-get install debootstrap`, then rerun (the base image is built once, about a minute).',
    };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------- lab image builds

/** Terminal colour codes: Docker's build output wraps a RUN step's stderr in them. */
// eslint-disable-next-line no-control-regex
const ANSI_ESCAPES = /\u001b\[[0-9;]*[A-Za-z]/g;

/** apt's own error lines ("E: Unable to locate package foo") in a build transcript, first ones first. */
export function aptErrorLines(transcript: string): string[] {
  return transcript
    .split('\n')
    .map((l) => l.replace(ANSI_ESCAPES, '').trim())
    .filter((l) => /^E: /.test(l));
}

export interface BuildFailureFacts {
  image: string;
  /** The Dockerfile step that failed, e.g. "step 3/7: RUN apt-get install -y ...". */
  step?: string;
  /** Docker's error (e.g. "The command '/bin/sh -c ...' returned a non-zero code: 100"). */
  error: string;
  /** The build's output before the failure. */
  transcript: string;
}

export function buildFailureProblem(f: BuildFailureFacts): Problem {
  const apt = aptErrorLines(f.transcript);
  const step = f.step ? ` at ${f.step.replace(/\s+/g, ' ').slice(0, 160)}` : '';
  const fix = apt.length
    ? `apt said:\n${apt
        .slice(0, 5)
        .map((l) => `  ${l}`)
        .join('\n')}\n` +
      "check this machine's Debian mirror (the lab uses the one in /etc/apt/sources.list*) answers, and that\n" +
      'the package exists in bookworm; then rerun (finished steps are cached).'
    : `the last lines of the build:\n${f.transcript
        .replace(ANSI_ESCAPES, '')
        .split('\n')
        .filter((l) => l.trim())
        .slice(-8)
        .map((l) => `  ${l}`)
        .join('\n')}\nfix the cause, then rerun (finished steps are cached).`;
  return { problem: `lab: building ${f.image} failed${step}: ${f.error.trim()}`, fix };
}
