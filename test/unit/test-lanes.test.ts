/**
 * What `npm test` runs beside the lab's integration files (scripts/test-lanes.mjs: the local lane; the
 * integration files of it listed in test/integration/lanes.ts) never touches the lab: two files faulting the
 * same containers at once would make each other fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAB_MARKERS, LOCAL_INTEGRATION_TESTS } from '../integration/lanes.js';

const usesLab = (file: string): RegExp[] =>
  LAB_MARKERS.filter((marker) => marker.test(readFileSync(file, 'utf8')));

/** Every .ts file under `dir`. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `${dir}/${f}`);

describe('the local lane', () => {
  it('runs the workflows project, which never touches the lab (the Web UI test, which does, is in the lab lane)', () => {
    for (const file of filesUnder('test/workflows')) expect(usesLab(file), file).toEqual([]);
    expect(usesLab('test/ui/temporal-ui.test.ts').length).toBeGreaterThan(0);
    const runner = readFileSync('scripts/test-lanes.mjs', 'utf8');
    expect(runner).toMatch(/name: 'lab', commands: \[vitest\('integration-lab'\), vitest\('ui'\)\]/);
  });

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
