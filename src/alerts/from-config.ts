/** The receiver's options from the config file: listen address, routes, and auth with secrets resolved. */
import { readPrivateKey } from '../approval/keys.js';
import type { Config } from '../config/schema.js';
import { resolveSecret } from '../config/secrets.js';
import type { ApprovalEndpointConfig } from './approval-endpoint.js';
import type { ReceiverAuth, ReceiverOptions } from './receiver.js';

/**
 * The approval endpoint's secrets: the approvers that have a token, and each target's receiver key.
 * Undefined when either is missing (the endpoint then says it is not configured). A key that cannot sign
 * stops the start, as a missing auth secret does.
 */
export async function approvalEndpointFromConfig(
  config: Config,
  baseDir: string,
): Promise<ApprovalEndpointConfig | undefined> {
  const approvers = [];
  for (const [name, approver] of Object.entries(config.approvers)) {
    if (approver.token === undefined) continue;
    const token = (await resolveSecret(approver.token, baseDir)).trim();
    if (token) approvers.push({ name, token });
  }
  const receiverKeys = new Map<string, string>();
  for (const target of config.targets) {
    if (target.approval.receiverKey === undefined) continue;
    const key = await resolveSecret(target.approval.receiverKey, baseDir);
    const read = readPrivateKey(key);
    if (!read.ok) throw new Error(`targets ${target.name}: approval.receiverKey ${read.problem}`);
    receiverKeys.set(target.name, key);
  }
  return approvers.length > 0 && receiverKeys.size > 0 ? { approvers, receiverKeys } : undefined;
}

export async function receiverOptionsFromConfig(
  config: Config,
  baseDir: string,
): Promise<Omit<ReceiverOptions, 'dispatcher'> | undefined> {
  const alerts = config.alerts;
  if (!alerts) return undefined;
  let auth: ReceiverAuth;
  if (alerts.auth.bearerToken) {
    auth = { bearerToken: (await resolveSecret(alerts.auth.bearerToken, baseDir)).trim() };
  } else if (alerts.auth.basic) {
    auth = {
      basic: {
        user: alerts.auth.basic.user,
        password: (await resolveSecret(alerts.auth.basic.password, baseDir)).trim(),
      },
    };
  } else {
    throw new Error('alerts.auth needs bearerToken or basic'); // the schema already refuses this
  }
  const approval = await approvalEndpointFromConfig(config, baseDir);
  const tls = alerts.listen.tls;
  return {
    ...(approval && { approval }),
    ...(tls && {
      tls: { cert: await resolveSecret(tls.cert, baseDir), key: await resolveSecret(tls.key, baseDir) },
    }),
    host: alerts.listen.host,
    port: alerts.listen.port,
    auth,
    routing: {
      routes: alerts.routes.map((r) => ({
        match: { ...r.match },
        runbook: r.runbook,
        ...(r.target !== undefined && { target: r.target }),
        ...(r.targetLabel !== undefined && { targetLabel: r.targetLabel }),
      })),
      defaultTarget: config.defaultTarget,
      targets: new Set(config.targets.map((t) => t.name)),
    },
  };
}
