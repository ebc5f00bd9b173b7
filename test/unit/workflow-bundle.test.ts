/**
 * The rule by which the worker picks its workflow code (src/temporal/workflow-bundle.ts): the prebuilt
 * bundle when it runs dist/ and every file the bundle was made from is unchanged, else bundling at start
 * (webpack: ~100 MB more peak RSS), saying why. The manifest here is made by hand, as `npm run build` would
 * write it (test/workflows/workflow-bundle.test.ts makes a real one with webpack).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BUNDLE_FILE,
  MANIFEST_FILE,
  preloadedWorkflowModules,
  workflowCode,
} from '../../src/temporal/workflow-bundle.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

let root = '';
let workflows = '';

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mrb-workflow-bundle-'));
  await mkdir(join(root, 'dist/workflows'), { recursive: true });
  await mkdir(join(root, 'node_modules/@temporalio/workflow/node_modules/ms'), { recursive: true });
  await mkdir(join(root, 'node_modules/@temporalio/workflow/lib'), { recursive: true });
  workflows = join(root, 'dist/workflows/index.js');
  const inputs = {
    'dist/workflows/index.js': 'export const a = 1;\n',
    'node_modules/@temporalio/workflow/lib/index.js': 'exports.b = 2;\n',
    'node_modules/@temporalio/workflow/node_modules/ms/index.js': 'exports.ms = 1;\n',
  };
  for (const [file, text] of Object.entries(inputs)) await writeFile(join(root, file), text);
  const bundle = 'var __TEMPORAL__;\n';
  await writeFile(join(root, 'dist', BUNDLE_FILE), bundle);
  const files = Object.fromEntries(Object.entries(inputs).map(([f, text]) => [f, sha256(text)]));
  await writeFile(join(root, 'dist', MANIFEST_FILE), JSON.stringify({ bundle: sha256(bundle), files }));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('workflowCode', () => {
  it('the compiled worker loads the prebuilt bundle when its inputs are unchanged: no webpack at start', () => {
    const code = workflowCode(workflows, {});
    expect(code.prebuilt).toBe(true);
    expect(code.options).toEqual({
      workflowsPath: undefined,
      workflowBundle: { codePath: join(root, 'dist', BUNDLE_FILE) },
    });
    expect(code.line).toBe(
      `worker: workflow code from the prebuilt bundle ${join(root, 'dist', BUNDLE_FILE)} (its inputs unchanged since the build)`,
    );
  });

  it('bundles at start from the sources (tsx), and with MRB_WORKFLOW_BUNDLE=off', () => {
    const sources = workflowCode(join(root, 'src/workflows/index.ts'), {});
    expect(sources.prebuilt).toBe(false);
    expect(sources.options).toEqual({ workflowsPath: join(root, 'src/workflows/index.ts') });
    expect(sources.line).toBe('worker: workflow code bundled at start (running from the sources)');
    const off = workflowCode(workflows, { MRB_WORKFLOW_BUNDLE: 'off' });
    expect(off).toMatchObject({ prebuilt: false, options: { workflowsPath: workflows } });
    expect(off.line).toContain('MRB_WORKFLOW_BUNDLE=off');
  });

  it('bundles at start when a compiled workflow file changed since the bundle was made', async () => {
    await writeFile(workflows, 'export const a = 2;\n');
    const code = workflowCode(workflows, {});
    expect(code).toMatchObject({ prebuilt: false, options: { workflowsPath: workflows } });
    expect(code.line).toContain('the prebuilt bundle is stale: dist/workflows/index.js');
  });

  it('bundles at start when another @temporalio/workflow is installed than the build saw', async () => {
    await writeFile(join(root, 'node_modules/@temporalio/workflow/lib/index.js'), 'exports.b = 3;\n');
    expect(workflowCode(workflows, {}).line).toContain('node_modules/@temporalio/workflow/lib/index.js');
  });

  it('finds a dependency an install hoisted (or nested) otherwise than the build, as Node would', async () => {
    const nested = join(root, 'node_modules/@temporalio/workflow/node_modules/ms');
    await rm(nested, { recursive: true });
    await mkdir(join(root, 'node_modules/ms'), { recursive: true });
    await writeFile(join(root, 'node_modules/ms/index.js'), 'exports.ms = 1;\n');
    expect(workflowCode(workflows, {}).prebuilt).toBe(true);
    await writeFile(join(root, 'node_modules/ms/index.js'), 'exports.ms = 2;\n'); // another version
    expect(workflowCode(workflows, {}).line).toContain('node_modules/@temporalio/workflow/node_modules/ms');
  });

  it('bundles at start without a manifest, or with a bundle its manifest does not describe', async () => {
    await writeFile(join(root, 'dist', BUNDLE_FILE), 'var __TEMPORAL__ = 1;\n');
    expect(workflowCode(workflows, {}).line).toContain('not the one its manifest describes');
    await rm(join(root, 'dist', MANIFEST_FILE));
    const code = workflowCode(workflows, {});
    expect(code.prebuilt).toBe(false);
    expect(code.line).toContain('no prebuilt bundle');
  });
});

it('`npm run build` makes the bundle, and the worker and `npm start` pick their code by workflowCode', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
  expect(pkg.scripts.build).toMatch(/&& node dist\/temporal\/workflow-bundle\.js$/);
  for (const entry of ['src/worker.ts', 'src/main.ts']) {
    const text = readFileSync(entry, 'utf8');
    expect(text, entry).toContain('workflowCode(WORKFLOWS_PATH)');
    expect(text, entry).toMatch(/createWorker\(connection, target\.namespace, \{?\s*(\.\.\.)?code\.options/);
  }
});

describe('preloadedWorkflowModules', () => {
  /** A module and every module of ours it imports (type-only imports left out: they vanish when compiled). */
  function withImports(file: string, seen = new Set<string>()): Set<string> {
    if (seen.has(file)) return seen;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/^import (?!type )[^;]*?from '([^']+)';/gms)) {
      if (spec!.startsWith('.')) withImports(resolve(dirname(file), spec!.replace(/\.js$/, '.ts')), seen);
      else seen.add(spec!);
    }
    return seen;
  }

  it('preloads the queue-selection schema (zod) beside the workflows, compiled or not', () => {
    expect(preloadedWorkflowModules(resolve('src/workflows/index.ts'))).toEqual([
      resolve('src/parsers/queue-selection.ts'),
    ]);
    expect(preloadedWorkflowModules(join(root, 'dist/workflows/index.js'))).toEqual([]); // none beside these
  });

  it('preloads only modules shared safely by every run: nothing of @temporalio/workflow, no module state', () => {
    for (const file of preloadedWorkflowModules(resolve('src/workflows/index.ts'))) {
      const all = [...withImports(file)];
      expect(all.filter((m) => m.startsWith('@temporalio/'))).toEqual([]);
      for (const ours of all.filter((m) => m.startsWith('/'))) {
        expect(readFileSync(ours, 'utf8'), ours).not.toMatch(/^(let|var) /m);
      }
    }
  });
});
