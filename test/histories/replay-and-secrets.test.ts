/**
 * Runs after the integration suites (its own Vitest project). Every history they saved must replay without
 * non-determinism against the current workflow code, and none may contain a secret of the lab or the tests.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { HISTORIES_DIR, type SuiteManifest } from '../helpers/histories.js';
import { knownSecrets, searchableHistory } from '../helpers/secrets.js';

const suites: SuiteManifest[] = existsSync(HISTORIES_DIR)
  ? readdirSync(HISTORIES_DIR)
      .filter((d) => existsSync(join(HISTORIES_DIR, d, 'manifest.json')))
      .map((d) => JSON.parse(readFileSync(join(HISTORIES_DIR, d, 'manifest.json'), 'utf8')) as SuiteManifest)
  : [];

function load(suite: SuiteManifest) {
  return suite.files.map((file) => {
    const text = readFileSync(join(HISTORIES_DIR, suite.suite, file), 'utf8');
    const { workflowId, history } = JSON.parse(text) as {
      workflowId: string;
      history: unknown;
    };
    return { file, text, workflowId, history: historyFromJSON(history) };
  });
}

describe('recorded histories', () => {
  it('the scan finds a secret planted inside a payload (so a clean result means something)', () => {
    const secret = knownSecrets().at(-1)?.value ?? 'planted-secret-value';
    const payload = Buffer.from(JSON.stringify({ note: `x${secret}y` })).toString('base64');
    const planted = JSON.stringify({ events: [{ input: { payloads: [{ metadata: {}, data: payload }] } }] });
    expect(planted.includes(secret)).toBe(false);
    expect(searchableHistory(planted).includes(secret)).toBe(true);
  });

  it('exist (the integration suites ran first)', () => {
    expect(suites.length).toBeGreaterThan(0);
  });

  it.each(suites.map((s) => [s.suite, s] as const))(
    '%s: replay against the current code without non-determinism',
    async (_name, suite) => {
      const histories = load(suite).map(({ workflowId, history }) => ({ workflowId, history }));
      let replayed = 0;
      for await (const result of Worker.runReplayHistories(
        { workflowsPath: suite.workflowsPath, replayName: suite.suite },
        histories,
      )) {
        expect(result.error, `${result.workflowId}: ${String(result.error)}`).toBeUndefined();
        replayed++;
      }
      expect(replayed).toBe(histories.length);
    },
  );

  it.each(suites.map((s) => [s.suite, s] as const))('%s: hold none of the secrets', (_name, suite) => {
    const secrets = knownSecrets();
    for (const { file, text } of load(suite)) {
      const searchable = searchableHistory(text);
      for (const secret of secrets) {
        expect(searchable.includes(secret.value), `${file} contains ${secret.name}`).toBe(false);
      }
    }
  });
});
