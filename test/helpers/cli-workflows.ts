/**
 * The engine fixture (test/workflows/engine-fixture.ts) registered under a real runbook's workflow type, so
 * `mail-runbooks start queueBacklog` (the CLI starts only known runbooks) runs the fixture. The run still
 * calls itself `engineFixture` (status.runbook and the MrbRunbook search attribute).
 */
export { engineFixture as queueBacklog } from '../workflows/engine-fixture.js';
export { targetGuard } from '../../src/workflows/guard.js';
