/**
 * The integration files `npm test` runs beside the lab's (test/integration/lanes.ts) never touch the lab:
 * two files faulting the same containers at once would make each other fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAB_MARKERS, LOCAL_INTEGRATION_TESTS } from '../integration/lanes.js';

const usesLab = (file: string): RegExp[] =>
  LAB_MARKERS.filter((marker) => marker.test(readFileSync(file, 'utf8')));

describe('the local integration lane', () => {
  it('holds only existing integration files, each once', () => {
    const files = new Set(readdirSync('test/integration').map((f) => `test/integration/${f}`));
    for (const file of LOCAL_INTEGRATION_TESTS) expect(files.has(file), file).toBe(true);
    expect(new Set(LOCAL_INTEGRATION_TESTS).size).toBe(LOCAL_INTEGRATION_TESTS.length);
  });

  it('holds no file that uses the shared lab or a docker-mailserver of its own', () => {
    for (const file of LOCAL_INTEGRATION_TESTS) expect(usesLab(file), file).toEqual([]);
  });

  it('the markers find the lab in the files that use it', () => {
    for (const file of [
      'test/integration/runbooks.test.ts',
      'test/integration/chaos-sample.test.ts',
      'test/integration/npm-start.test.ts',
      'test/integration/dms-relay-setups.test.ts',
      'test/integration/alerts-from-metrics.test.ts',
    ])
      expect(usesLab(file).length, file).toBeGreaterThan(0);
  });
});
