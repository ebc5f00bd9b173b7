/** The branches of the remediation runbooks on a real Temporal dev server, with fake activities. */
import { inboundDeferredCases } from './cases/inbound-deferred.js';
import {
  providerQueueBacklogCases,
  providerRelayUnresponsiveCases,
  providerStartStopCases,
  statusCheckCases,
} from './cases/provider-relay.js';
import { queueBacklogCases } from './cases/queue-backlog.js';
import { queueSurgeryCases } from './cases/queue-surgery.js';
import { relayUnresponsiveCases } from './cases/relay-unresponsive.js';
import { startStopCases } from './cases/start-stop.js';
import { describeRunbooks } from './harness.js';

describeRunbooks({
  queueBacklog: [...queueBacklogCases, ...providerQueueBacklogCases],
  relayUnresponsive: [...relayUnresponsiveCases, ...providerRelayUnresponsiveCases],
  inboundDeferred: inboundDeferredCases,
  queueSurgery: queueSurgeryCases,
  startStop: [...startStopCases, ...providerStartStopCases],
  statusCheck: statusCheckCases,
});
