/**
 * Which integration tests may run beside the lab's (`npm test` runs two lanes at once: scripts/test-lanes.mjs).
 *
 * The lab lane runs one file at a time: those files fault and heal the same lab containers, or start a
 * docker-mailserver of their own (CPU-heavy for a minute). The local lane holds the files that use neither:
 * their own dev server, receiver, sshd or small containers, on ports of their own. On 2 cores the lab lane
 * mostly waits for mail to move, so the local lane fits into its idle time. test/unit/test-lanes.test.ts
 * keeps this list honest: a file here that reaches for the lab fails it.
 */
export const LOCAL_INTEGRATION_TESTS = [
  'test/integration/alertmanager.test.ts',
  'test/integration/approval-endpoint.test.ts',
  'test/integration/approvals-signed.test.ts',
  'test/integration/audit.test.ts',
  'test/integration/cli.test.ts',
  'test/integration/dev-server.test.ts',
  'test/integration/docker-proxy.test.ts',
  'test/integration/engine.test.ts',
  'test/integration/first-run.test.ts',
  'test/integration/hostkey.test.ts',
  'test/integration/monitoring-blackbox.test.ts',
  'test/integration/monitoring-rules.test.ts',
  'test/integration/npm-start-config.test.ts',
  'test/integration/receiver-faults.test.ts',
  'test/integration/receiver-tls.test.ts',
  'test/integration/schedules.test.ts',
  'test/integration/start-run.test.ts',
  'test/integration/transports-errors.test.ts',
  'test/integration/transports.test.ts',
  'test/integration/worker-metrics.test.ts',
];

/** What a file that uses the shared lab (or a docker-mailserver of its own) imports or names. */
export const LAB_MARKERS = [
  /from '\.\.\/helpers\/lab\.js'/,
  /from '\.\.\/chaos\//,
  /from '\.\.\/\.\.\/src\/lab\/(lab|faults|dms-image|containers|monitoring|material)\.js'/,
  /mrb-lab/,
  // npm start with no config brings the lab up
  /lab: up in/,
];
