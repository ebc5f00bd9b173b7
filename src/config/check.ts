/**
 * `config check`: is the file valid, which targets does it define, and can every secret reference be
 * resolved here? Used by the CLI; also what a worker should run before it starts.
 */
import { readPrivateKey } from '../approval/keys.js';
import { expandApprovers, own } from './approvers.js';
import { ConfigError, formatProblem, loadConfig, missingConfigMessage, resolveConfigPath } from './load.js';
import { providerRelayTls, type Config, type SshEndpoint, type Target } from './schema.js';
import { checkSecrets, resolveSecret, type SecretCheck } from './secrets.js';
import { displayPath } from './validate.js';

export interface TargetSummary {
  name: string;
  mailServer: string;
  relay: string;
  canary: string;
}

export interface CheckSummary {
  /** The file checked, and why that one. */
  config: string;
  reason: string;
  defaultTarget?: string;
  targets: TargetSummary[];
  secrets: SecretCheck[];
  routes: number;
  schedules: number;
}

export interface CheckResult {
  ok: boolean;
  /** One line each, `<file>:<line>:<col>: <path>: <what is wrong>`. */
  problems: string[];
  warnings: string[];
  summary: CheckSummary;
}

const ssh = (s: SshEndpoint) => `ssh ${s.user}@${s.host}:${s.port}`;

/** One target for people: where its mail server, relay and canary are; never a secret or its reference. */
export function describeTarget(t: Target): TargetSummary {
  const server = t.mailServer;
  let mailServer: string;
  if (server.kind === 'postfix') {
    mailServer = `postfix via ${ssh(server.ssh)}`;
  } else {
    const engine = server.docker.engine;
    const via =
      engine.type === 'socket'
        ? `docker socket ${engine.socketPath}`
        : engine.type === 'tcp'
          ? `docker tcp+tls ${engine.host}:${engine.port}`
          : `docker over ${ssh(engine)}`;
    mailServer = `dms container ${server.docker.container} via ${via}`;
  }
  const relay =
    t.relay.flavour === 'provider'
      ? `provider relay ${t.canary.expectRelay}:${t.relay.port} (${providerRelayTls(t.relay) === 'implicit' ? 'implicit TLS' : 'STARTTLS'}), SMTP checks only (no ssh: restarts and relay logs are handed to a person)${t.relay.sasl ? `, login checked as ${t.relay.sasl.user}` : ''}`
      : `${t.relay.flavour} relay via ${ssh(t.relay.ssh)}, mail port ${t.relay.port}, ${t.relay.service.manager} ${t.relay.service.name}`;
  const sub = t.canary.submission;
  const canary = `${t.canary.from} -> ${t.canary.to} via ${sub.host}:${sub.port} (${sub.tls})${t.canary.imap ? ', IMAP check' : ''}`;
  return { name: t.name, mailServer, relay, canary };
}

function summarize(config: Config): Omit<CheckSummary, 'config' | 'reason' | 'secrets'> {
  return {
    defaultTarget: config.defaultTarget,
    targets: config.targets.map(describeTarget),
    routes: config.alerts?.routes.length ?? 0,
    schedules: config.schedules.length,
  };
}

/**
 * Approval settings that are valid but cannot work: a receiver key that is not an ed25519 private key
 * (a problem), a target where nobody can prove who they are and unsigned decisions do not count (a
 * warning: every request would end at its deadline). Unresolvable secrets are the secret check's report.
 */
async function approvalFindings(
  config: Config,
  file: string,
  env: NodeJS.ProcessEnv | undefined,
): Promise<{ problems: string[]; warnings: string[] }> {
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const [i, target] of config.targets.entries()) {
    const approval = target.approval;
    const where = (key: string) => `${file}: ${displayPath(['targets', i, 'approval', key], config)}`;
    if (approval.receiverKey) {
      const text = await resolveSecret(approval.receiverKey, undefined, env).catch(() => undefined);
      const read = text === undefined ? undefined : readPrivateKey(text);
      if (read && !read.ok) problems.push(`${where('receiverKey')}: the receiver key ${read.problem}`);
    }
    const named = expandApprovers(approval.approvers, config.approverGroups);
    const accepted = named.length > 0 ? named : Object.keys(config.approvers);
    const canProve = accepted.some((name) => {
      const approver = own(config.approvers, name);
      return !!approver?.publicKeys?.length || (!!approver?.token && !!approval.receiverKey);
    });
    if (!approval.allowUnsigned && !canProve)
      warnings.push(
        `${where('allowUnsigned')}: no approver this target accepts can prove who they are (publicKeys, or a token with approval.receiverKey) and unsigned decisions do not count: every approval request would end at its deadline`,
      );
  }
  return { problems, warnings };
}

/**
 * Checks the config at `path` (default: resolveConfigPath()). Never throws for a bad config: the problems
 * are in the result, and `ok` is false.
 */
export async function checkConfig(
  path?: string,
  options: { env?: NodeJS.ProcessEnv; cwd?: string; allowLab?: boolean } = {},
): Promise<CheckResult> {
  const choice = resolveConfigPath({ explicit: path, ...options });
  const summary: CheckSummary = {
    config: choice.path,
    reason: choice.reason,
    targets: [],
    secrets: [],
    routes: 0,
    schedules: 0,
  };
  if (!choice.exists) {
    return { ok: false, problems: [missingConfigMessage(choice)], warnings: [], summary };
  }
  let config: Config;
  try {
    config = await loadConfig(choice.path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { ok: false, problems: err.problems.map(formatProblem), warnings: [], summary };
  }
  const secrets = await checkSecrets(config, { env: options.env });
  const approval = await approvalFindings(config, choice.path, options.env);
  const problems = [
    ...secrets
      .filter((s) => !s.ok)
      .map((s) => `${choice.path}: ${s.path}: secret not resolvable: ${s.problem ?? 'unknown problem'}`),
    ...approval.problems,
  ];
  const warnings = [
    ...secrets.flatMap((s) => (s.warning ? [`${choice.path}: ${s.path}: ${s.warning}`] : [])),
    ...approval.warnings,
  ];
  return {
    ok: problems.length === 0,
    problems,
    warnings,
    summary: { ...summary, ...summarize(config), secrets },
  };
}
