/** Every activity the worker registers. Workflows import this module's types only. */
export {
  mailServerNetworking,
  openRelayProbe,
  relayRestrictions,
  submissionAuth,
  trustedNetworks,
} from './audit.js';
export { verifyDecisionProof } from './approval.js';
export { sendCanary } from './canary.js';
export { dnsRecords, submissionLayer } from './diagnosis.js';
export { waitCanaryDelivered } from './delivery.js';
export { amavisAnswers, amavisListening, reinjectionService, waitAmavisListening } from './inbound.js';
export {
  mailLogTail,
  mailServerState,
  restartProgram,
  setMailServerRunning,
  supervisorPrograms,
  waitMailServerReady,
} from './mail-server.js';
export { notify } from './notify.js';
export { loadTargetPlan } from './plan.js';
export { providerRelayLogin, providerRelayStatus } from './provider-relay.js';
export { flushQueue, queueSummary, requeueDeferred, waitQueueDrained } from './queue.js';
export { applyQueueSurgery, selectQueuedMessages } from './queue-surgery.js';
export {
  outboundDeferrals,
  relayAnswersSmtp,
  relayLogs,
  relayPortListening,
  relayWatchdogState,
  restartRelayWatchdog,
  setRelayRunning,
  waitRelayListening,
} from './relay.js';
export { requestTargetLease } from './guard.js';
export { fixRelayKeyPermissions, relayKeyPermissions, sshToRelay } from './relay-client.js';
export { relayCredentialsInSync, syncRelayCredentials } from './relay-credentials.js';
export { relayCredentials, relayMapsInEffect, relayRoute } from './relay-routing.js';
export { startScheduledFleet, startScheduledRun } from './start-run.js';
