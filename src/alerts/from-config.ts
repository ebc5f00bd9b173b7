/** The receiver's options from the config file: listen address, routes, and auth with secrets resolved. */
import type { Config } from '../config/schema.js';
import { resolveSecret } from '../config/secrets.js';
import type { ReceiverAuth, ReceiverOptions } from './receiver.js';

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
  return {
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
