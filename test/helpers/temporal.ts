/**
 * A real Temporal dev server for tests: the project's pinned CLI binary (never a download), through
 * TestWorkflowEnvironment.createLocal with an `existing-path` executable, with our search attributes.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureTemporalBinary } from '../../src/temporal/binary.js';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes.js';

export async function createTestEnv(): Promise<TestWorkflowEnvironment> {
  const binary = await ensureTemporalBinary();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: binary.path },
      ip: '127.0.0.1',
      searchAttributes: [...ALL_SEARCH_ATTRIBUTES],
      extraArgs: ['--log-level', 'error'],
    },
  });
}
