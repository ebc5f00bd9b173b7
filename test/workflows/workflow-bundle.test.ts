/**
 * `npm run build`'s bundle step for real (webpack, a few seconds): a dist/ layout with one workflow file,
 * bundled by buildWorkflowBundle; its manifest lists the workflow file and @temporalio/workflow, and
 * workflowCode then picks the prebuilt bundle, until the workflow file changes.
 * (test/unit/workflow-bundle.test.ts has the rule's other cases on a hand-made manifest.)
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import {
  buildWorkflowBundle,
  MANIFEST_FILE,
  workflowCode,
  writeWorkflowBundle,
} from '../../src/temporal/workflow-bundle.js';

let root = '';
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

it('bundles dist/workflows once, records its inputs, and the worker then loads it', async () => {
  root = await mkdtemp(join(tmpdir(), 'mrb-workflow-bundle-build-'));
  await mkdir(join(root, 'dist/workflows'), { recursive: true });
  await symlink(resolve('node_modules'), join(root, 'node_modules'));
  const workflows = join(root, 'dist/workflows/index.js');
  await writeFile(
    workflows,
    "import { sleep } from '@temporalio/workflow';\nexport async function nap() { await sleep(1); }\n",
  );

  const built = await buildWorkflowBundle(workflows);
  expect(built.path).toBe(join(root, 'dist/workflow-bundle.js'));
  const manifest = JSON.parse(readFileSync(join(root, 'dist', MANIFEST_FILE), 'utf8')) as {
    files: Record<string, string>;
  };
  const files = Object.keys(manifest.files);
  expect(files).toContain(join('dist', 'workflows', 'index.js'));
  expect(files.some((f) => f.includes(join('@temporalio', 'workflow', 'lib')))).toBe(true);
  const code = readFileSync(built.path, 'utf8');
  expect(code).toContain('nap');
  // The inline source map keeps positions but not the sources' text.
  const map = JSON.parse(
    Buffer.from(code.slice(code.lastIndexOf('base64,') + 7).trim(), 'base64').toString(),
  ) as { sources: string[]; sourcesContent?: unknown };
  expect(map.sources.length).toBeGreaterThan(0);
  expect(map.sourcesContent).toBeUndefined();

  expect(workflowCode(workflows, {}).prebuilt).toBe(true);
  await writeFile(workflows, 'export async function nap() {}\n');
  expect(workflowCode(workflows, {}).prebuilt).toBe(false);
}, 120_000);

it("the runbooks' bundle preloads the queue-selection schema: evaluated once per workflow thread, not per run", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mrb-workflow-bundle-preload-'));
  try {
    const { code } = await writeWorkflowBundle(resolve('src/workflows/index.ts'), join(dir, 'bundle.js'));
    const preload = /exports\.preloadModules = function preloadModules\(\) \{([^}]*)\}/.exec(code)?.[1] ?? '';
    expect(preload).toContain('./src/parsers/queue-selection.ts');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 120_000);
