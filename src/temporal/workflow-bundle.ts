/**
 * The workflow code bundled once at build time (issue 14, point 1). `npm run build` runs this module
 * (`node dist/temporal/workflow-bundle.js`): webpack bundles dist/workflows/ into dist/workflow-bundle.js,
 * and dist/workflow-bundle.json records the SHA-256 of the bundle and of every file that went into it (our
 * compiled workflows and shared code, @temporalio/workflow and the rest of node_modules it pulls in).
 *
 * Why: webpack at every worker start took the shipped worker's peak RSS to ~310 MB; loading the prebuilt
 * bundle never runs webpack (`npm run bench -- worker-memory` measures both ways).
 *
 * The rule (workflowCode): the worker loads the prebuilt bundle when it runs the compiled build (dist/),
 * MRB_WORKFLOW_BUNDLE is not `off`, and every recorded file still has its recorded hash, so the bundle
 * is exactly what bundling at start would make. Otherwise (running from the sources under tsx, no bundle,
 * a dist/ recompiled without it, other dependency versions installed than the build saw) it bundles at
 * start, as it always did, and its log line says why.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, type WorkerOptions } from '@temporalio/worker';

export const BUNDLE_FILE = 'workflow-bundle.js';
export const MANIFEST_FILE = 'workflow-bundle.json';

interface Manifest {
  /** SHA-256 of the bundle file itself. */
  bundle: string;
  /** Every file webpack put into the bundle, relative to the package root, with its SHA-256. */
  files: Record<string, string>;
}

/**
 * Modules the workflow thread evaluates once, shared by every run, instead of once per run
 * (BundleOptions.preloadModules; the SDK deep-freezes their exports). Each run's first workflow task used
 * to evaluate zod anew, through the queue-selection schema queueSurgery validates its request with: that
 * task took about 30 ms before and 17 ms after (statusCheck on the lab, median of 8 runs, twice), and
 * `npm run bench -- runbook-overhead` went from 6.5-6.7 % to 5.9-6.0 % outside activities. Only pure
 * modules, that import nothing of @temporalio/workflow and keep no state a run could change
 * (test/unit/workflow-bundle.test.ts checks both). Those not beside `workflowsPath` are skipped: a layout
 * without them (a test's) has nothing to preload.
 */
export function preloadedWorkflowModules(workflowsPath: string): string[] {
  const ext = workflowsPath.endsWith('.ts') ? '.ts' : '.js';
  const parsers = join(dirname(dirname(workflowsPath)), 'parsers');
  return [join(parsers, `queue-selection${ext}`)].filter((f) => existsSync(f));
}

type BundleOptions = Parameters<typeof bundleWorkflowCode>[0];
type WebpackConfig = Parameters<NonNullable<BundleOptions['webpackConfigHook']>>[0];
type WebpackPlugin = Extract<NonNullable<WebpackConfig['plugins']>[number], { apply: unknown }>;

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** dist/workflows/index.js -> dist/ (where the bundle and its manifest live) and the package root. */
function layout(workflowsPath: string): { dist: string; root: string } {
  const dist = dirname(dirname(workflowsPath));
  return { dist, root: dirname(dist) };
}

/**
 * Bundles `workflowsPath` (plus `interceptorModules`) and writes the code to `outPath`; returns the files on
 * disk that webpack read as modules (the generated entry point lives in memory only). The build and the chaos
 * harness (its interceptor included) both bundle through here.
 */
export async function writeWorkflowBundle(
  workflowsPath: string,
  outPath: string,
  interceptorModules: string[] = [],
): Promise<{ code: string; inputs: string[] }> {
  const inputs = new Set<string>();
  // Observes only: the code webpack emits is what the worker's own bundling at start would emit (but for
  // the source map's sources, below).
  const recordInputs: WebpackPlugin = {
    apply(compiler) {
      compiler.hooks.done.tap('mail-runbooks-bundle-inputs', (stats) => {
        for (const m of stats.compilation.modules) {
          const resource = (m as { resource?: unknown }).resource;
          if (typeof resource === 'string') inputs.add(resource.split('?')[0] ?? resource);
        }
      });
    },
  };
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: interceptorModules,
    preloadModules: preloadedWorkflowModules(workflowsPath),
    logger: new DefaultLogger('WARN'),
    webpackConfigHook: (config) => ({
      ...config,
      // The source map without the sources' text (1.1 of the bundle's 3.2 MB, parsed by both the worker's
      // threads): stack traces still point at src/*.ts lines; only showStackTraceSources (off) used the text.
      devtool: 'inline-nosources-source-map',
      plugins: [...(config.plugins ?? []), recordInputs],
    }),
  });
  await writeFile(outPath, code);
  return { code, inputs: [...inputs].filter((f) => existsSync(f)).sort() };
}

/** `npm run build`'s last step: the bundle of the compiled workflows and its manifest, into dist/. */
export async function buildWorkflowBundle(workflowsPath: string): Promise<{ path: string; files: number }> {
  const { dist, root } = layout(workflowsPath);
  const path = join(dist, BUNDLE_FILE);
  const { code, inputs } = await writeWorkflowBundle(workflowsPath, path);
  const files = Object.fromEntries(inputs.map((f) => [relative(root, f), sha256(readFileSync(f))]));
  if (!Object.keys(files).some((f) => f.startsWith(`dist${sep}workflows${sep}`)))
    throw new Error(`the workflow bundle lists none of dist/workflows/ among its inputs`);
  const manifest: Manifest = { bundle: sha256(code), files };
  await writeFile(join(dist, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
  return { path, files: inputs.length };
}

/**
 * Where a recorded input is now. Our own files: at their path under the package root. A dependency's file
 * (`node_modules/a/node_modules/b/lib/x.js`): package `b` looked up from `a` as Node and webpack do (each
 * `node_modules` from there up), since an install may hoist or nest packages otherwise than the build's
 * checkout; its hash then says whether it is the same version.
 */
function locate(root: string, file: string): string | undefined {
  const parts = file.split(/[\\/]/);
  if (parts[0] !== 'node_modules') return resolve(root, file);
  let dir = root;
  let i = 0;
  while (parts[i] === 'node_modules') {
    const name = parts[i + 1]?.startsWith('@') ? parts.slice(i + 1, i + 3) : parts.slice(i + 1, i + 2);
    let from = dir;
    let found: string | undefined;
    for (;;) {
      const candidate = join(from, 'node_modules', ...name);
      if (!from.endsWith(`${sep}node_modules`) && existsSync(candidate)) {
        found = candidate;
        break;
      }
      const parent = dirname(from);
      if (parent === from) return undefined;
      from = parent;
    }
    dir = found;
    i += 1 + name.length;
  }
  return join(dir, ...parts.slice(i));
}

/** Why the prebuilt bundle beside `workflowsPath` cannot be used, or undefined when it can. */
function staleness(dist: string, root: string): string | undefined {
  const manifestPath = join(dist, MANIFEST_FILE);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch {
    return `no prebuilt bundle (${manifestPath} missing or unreadable; \`npm run build\` makes it)`;
  }
  const bundlePath = join(dist, BUNDLE_FILE);
  if (!existsSync(bundlePath) || sha256(readFileSync(bundlePath)) !== manifest.bundle)
    return `${bundlePath} is missing or not the one its manifest describes`;
  for (const [file, hash] of Object.entries(manifest.files ?? {})) {
    const path = locate(root, file);
    if (!path || !existsSync(path) || sha256(readFileSync(path)) !== hash)
      return `the prebuilt bundle is stale: ${file} is missing or changed since it was built (\`npm run build\` remakes it)`;
  }
  return undefined;
}

export interface WorkflowCode {
  /** The Worker options that pick the code: a prebuilt bundle, or the workflows to bundle at start. */
  options: Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'>;
  prebuilt: boolean;
  /** One line for the worker's log: which, and why. */
  line: string;
}

/** The workflow code the worker runs: the prebuilt bundle when the rule above allows it, else bundled at start. */
export function workflowCode(workflowsPath: string, env: NodeJS.ProcessEnv = process.env): WorkflowCode {
  const atStart = (why: string): WorkflowCode => ({
    options: { workflowsPath },
    prebuilt: false,
    line: `worker: workflow code bundled at start (${why})`,
  });
  if (!workflowsPath.endsWith('.js')) return atStart('running from the sources');
  if (env.MRB_WORKFLOW_BUNDLE === 'off') return atStart('MRB_WORKFLOW_BUNDLE=off');
  const { dist, root } = layout(workflowsPath);
  const why = staleness(dist, root);
  if (why) return atStart(why);
  const codePath = join(dist, BUNDLE_FILE);
  return {
    // workflowsPath unset: Temporal would warn that it ignores it beside a bundle.
    options: { workflowsPath: undefined, workflowBundle: { codePath } },
    prebuilt: true,
    line: `worker: workflow code from the prebuilt bundle ${codePath} (its inputs unchanged since the build)`,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const workflows = fileURLToPath(new URL('../workflows/index.js', import.meta.url));
  const started = Date.now();
  buildWorkflowBundle(workflows).then(
    ({ path, files }) =>
      console.error(
        `workflow bundle: ${path} from ${files} files in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      ),
    (err: unknown) => {
      console.error(`workflow bundle: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
