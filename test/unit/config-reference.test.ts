/** docs/config-reference.md is generated from the schema; a stale copy fails here (fix: npm run docs:config). */
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { REFERENCE_PATH, renderConfigReference } from '../../src/config/reference.js';

it('the committed config reference matches the schema', async () => {
  const committed = await readFile(REFERENCE_PATH, 'utf8');
  expect(committed, 'docs/config-reference.md is stale: run npm run docs:config').toBe(
    await renderConfigReference(),
  );
});

it('documents every section and the secret rule', async () => {
  const doc = await renderConfigReference();
  for (const heading of [
    '## targets[].relay[flavour=windows].service',
    '## alerts.routes[]',
    '## schedules[]',
  ]) {
    expect(doc).toContain(heading);
  }
  expect(doc).toContain('secret given inline; use { env: NAME } or { file: PATH }');
});
