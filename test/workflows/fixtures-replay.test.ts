/**
 * The committed histories under test/histories/fixtures/ (each runbook on each path, recorded from the
 * mocked-activity branch tests) must replay against the current workflow code. A change that breaks them is
 * a non-deterministic change: it needs `patched()` or a new fixture set with its reason in the fixtures'
 * README. The last test shows the replay does catch such a change.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeterminismViolationError } from '@temporalio/workflow';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { WORKFLOWS_PATH } from '../../src/worker.js';

const FIXTURES = fileURLToPath(new URL('../histories/fixtures', import.meta.url));
const CHANGED_WORKFLOWS = fileURLToPath(new URL('./changed/index.ts', import.meta.url));

interface Fixture {
  runbook: string;
  file: string;
  workflowId: string;
  history: ReturnType<typeof historyFromJSON>;
}

function fixtures(): Fixture[] {
  if (!existsSync(FIXTURES)) return [];
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(join(FIXTURES, d.name))
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((file) => {
          const { workflowId, history } = JSON.parse(readFileSync(join(FIXTURES, d.name, file), 'utf8')) as {
            workflowId: string;
            history: unknown;
          };
          return { runbook: d.name, file, workflowId, history: historyFromJSON(history) };
        }),
    );
}

const all = fixtures();

describe('committed history fixtures', () => {
  it('cover every remediation runbook', () => {
    const runbooks = new Set(all.map((f) => f.runbook));
    for (const name of ['queueBacklog', 'relayUnresponsive', 'inboundDeferred', 'queueSurgery', 'startStop'])
      expect(runbooks.has(name), `no fixture for ${name}`).toBe(true);
  });

  it('replay against the current workflow code without non-determinism', async () => {
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories(
      { workflowsPath: WORKFLOWS_PATH, replayName: 'fixtures' },
      all.map(({ workflowId, history }) => ({ workflowId, history })),
    )) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(all.length);
  }, 120_000);

  it('a changed workflow fails the replay (so a pass above means something)', async () => {
    const fixture = all.find((f) => f.runbook === 'queueBacklog');
    expect(fixture, 'a queueBacklog fixture').toBeDefined();
    const replay = Worker.runReplayHistory(
      { workflowsPath: CHANGED_WORKFLOWS, replayName: 'changed' },
      fixture!.history,
      fixture!.workflowId,
    );
    await expect(replay).rejects.toBeInstanceOf(DeterminismViolationError);
  }, 120_000);
});
