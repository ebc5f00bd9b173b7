/**
 * The chaos worker's workflow interceptor (loaded only by test/chaos/worker.ts through
 * `interceptors.workflowModules`, so bundled into its workflows): tells the worker's main thread, through the
 * `chaos` sink, each activity type the workflow schedules. The main thread SIGKILLs the worker on the planned
 * one: a step boundary, after the previous step's result reached the workflow and before the next step's
 * activity is sent. Sink calls run when the activation is done and before its completion goes to the server
 * (@temporalio/worker 1.x: processSinkCalls in handleActivation's finally), so the schedule is lost with the
 * worker; the workflow task is retried after its timeout (10 s), with no activity timeout to wait out.
 * Sinks are not called on replay, so a replaying worker counts nothing twice. Issues no command: replays alike.
 */
import { proxySinks, type Sinks, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

export interface ChaosSinks extends Sinks {
  chaos: { scheduling(activityType: string): void };
}

const { chaos } = proxySinks<ChaosSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      scheduleActivity(input, next) {
        chaos.scheduling(input.activityType);
        return next(input);
      },
    },
  ],
});
