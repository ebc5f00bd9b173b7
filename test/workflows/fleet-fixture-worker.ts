/**
 * The worker of the fleet tests (./fleet-fixture.ts with ./fleet-fixture-activities.ts) on a test server,
 * started before a test file's tests and stopped after them.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { startTestWorker, type TestWorker } from '../helpers/test-worker.js';
import * as activities from './fleet-fixture-activities.js';

/** Registers the file's hooks; the returned function gives the running worker. */
export function fleetFixtureWorker(taskQueue: string): () => TestWorker {
  let tw: TestWorker | undefined;
  beforeAll(async () => {
    tw = await startTestWorker({
      taskQueue,
      workflowsPath: fileURLToPath(new URL('./fleet-fixture.ts', import.meta.url)),
      activities,
    });
  }, 120_000);
  afterAll(async () => {
    await tw?.stop();
  });
  return () => {
    if (!tw) throw new Error('the fleet fixture worker has not started');
    return tw;
  };
}
