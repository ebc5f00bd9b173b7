/** Every runbook workflow the worker serves. The export name is the workflow type (start it by that name). */
export { endToEndVerification } from './end-to-end.js';
export { inboundDeferred } from './inbound-deferred.js';
export { openRelayAudit } from './open-relay-audit.js';
export { queueBacklog } from './queue-backlog.js';
export { queueSurgery } from './queue-surgery.js';
export { relayRoutingCheck } from './relay-routing-check.js';
export { relayUnresponsive } from './relay-unresponsive.js';
export { smtpPathDiagnosis } from './smtp-path-diagnosis.js';
export { startStop } from './start-stop.js';
export { statusCheck } from './status-check.js';
// Not a runbook: what a schedule starts, a fleet over its targets (src/shared/fleet.ts, SCHEDULED_FLEET_WORKFLOW).
export { scheduledFleet } from './scheduled-fleet.js';
// Not a runbook: what schedules of older versions start, one per target (src/shared/start.ts).
export { scheduledStart } from './scheduled-start.js';
// Not a runbook: the guard of targets' leases and action budgets (src/shared/guard.ts, GUARD_WORKFLOW).
export { targetGuard } from './guard.js';
// Not a runbook: one runbook on many targets as child runs (src/shared/fleet.ts, FLEET_WORKFLOW).
export { fleet } from './fleet.js';
