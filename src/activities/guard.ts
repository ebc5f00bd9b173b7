/** Hands a lease request to the target guard, starting the guard when it is not running (signal-with-start). */
import { Context } from '@temporalio/activity';
import { guardMetadata } from '../shared/run-metadata.js';
import { GUARD_WORKFLOW, guardWorkflowId, leaseRequestSignal, type LeaseRequest } from '../shared/guard.js';

/**
 * `target` comes first like every activity's (the request names it too). Safe to retry: the guard ignores
 * a request id it already holds or queues.
 */
export async function requestTargetLease(target: string, request: LeaseRequest): Promise<void> {
  const { client, info } = Context.current();
  // The guard serves the task queue the run's activities run on: the worker fleet the run belongs to.
  await client.workflow.signalWithStart(GUARD_WORKFLOW, {
    workflowId: guardWorkflowId(info.taskQueue),
    taskQueue: info.taskQueue,
    args: [],
    signal: leaseRequestSignal,
    signalArgs: [{ ...request, target }],
    ...guardMetadata(info.taskQueue),
  });
}
