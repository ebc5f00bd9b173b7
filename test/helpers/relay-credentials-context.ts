/**
 * A stand-in for src/activities/context.js in the relay-credentials unit tests (for `vi.mock`): target `lab`
 * with relay SASL user `user`, `password` as every secret, and `host` as the mail server, of `kind`.
 */
import { mailServerCommandsFor } from '../../src/commands/index.js';
import type { HostTransport } from '../../src/transports/index.js';

export function relayCredentialsContext(options: {
  user: string;
  password: string;
  kind: 'dms' | 'postfix';
  mailLog: string;
  /** Read at each call: the test's transport may be set up after the mock. */
  host: () => HostTransport;
}) {
  return {
    targetConfig: async () => ({
      name: 'lab',
      relay: { sasl: { user: options.user, password: { env: 'X' } } },
    }),
    secret: async () => options.password,
    onMailServer: async () => ({
      target: { name: 'lab' },
      host: options.host(),
      commands: mailServerCommandsFor({ kind: options.kind, mailLog: options.mailLog }),
    }),
  };
}
