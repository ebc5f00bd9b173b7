/**
 * docs/runbooks.md against the registry (src/shared/runbooks.ts) and the runbook sources: one `## <name>`
 * section per registered runbook, in registry order, opening with its description verbatim, and naming in
 * backticks every step its source runs (the shared steps of src/workflows/steps.ts included). Step names
 * built from template literals (`restart-${program}`) are documented as `restart-<program>` and not checked.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INTERNAL_WORKFLOWS, RUNBOOKS } from '../../src/shared/runbooks.js';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** A step name passed as a string literal to run.check/act/wait/verify (possibly on the next line). */
const STEP_CALL = /\brun\.(?:check|act|wait|verify)\(\s*'([a-z0-9-]+)'/g;

const literalSteps = (source: string): string[] => [...source.matchAll(STEP_CALL)].map((m) => m[1]!);

/**
 * The step names each exported function of src/workflows/steps.ts runs, following its calls to the other
 * exported functions there (verifiedFix runs verifyEndToEnd's steps).
 */
function sharedSteps(stepsSource: string): Map<string, string[]> {
  const starts = [...stepsSource.matchAll(/^export (?:async )?function (\w+)/gm)];
  const bodies = new Map(
    starts.map((m, i) => [m[1]!, stepsSource.slice(m.index, starts[i + 1]?.index ?? stepsSource.length)]),
  );
  const resolved = new Map<string, string[]>();
  const resolve = (name: string, seen: readonly string[]): string[] => {
    const known = resolved.get(name);
    if (known) return known;
    const body = bodies.get(name) ?? '';
    const called = [...bodies.keys()].filter(
      (other) => other !== name && !seen.includes(other) && new RegExp(`\\b${other}\\(`).test(body),
    );
    const steps = [
      ...new Set([...literalSteps(body), ...called.flatMap((c) => resolve(c, [...seen, name]))]),
    ];
    resolved.set(name, steps);
    return steps;
  };
  for (const name of bodies.keys()) resolve(name, []);
  return resolved;
}

/** Every step a runbook source runs by a literal name: its own, and those of the shared steps it imports. */
function stepsOf(source: string, shared: Map<string, string[]>): string[] {
  const imported = /import \{([^}]*)\} from '\.\/steps\.js'/.exec(source)?.[1] ?? '';
  const names = imported
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  return [...new Set([...literalSteps(source), ...names.flatMap((n) => shared.get(n) ?? [])])];
}

/** Runbook name -> its source file, from the export lines of src/workflows/index.ts (runbooks only). */
function runbookFiles(indexSource: string): Map<string, string> {
  return new Map(
    [...indexSource.matchAll(/^export \{ (\w+) \} from '\.\/([\w-]+)\.js';/gm)]
      .filter((m) => !INTERNAL_WORKFLOWS.includes(m[1]!))
      .map((m) => [m[1]!, `src/workflows/${m[2]!}.ts`]),
  );
}

/** The `## name` sections whose heading is a single identifier (a runbook), with their text. */
function runbookSections(doc: string): { name: string; text: string }[] {
  const headings = [...doc.matchAll(/^#{1,2} (.*)$/gm)];
  return headings.flatMap((h, i) => {
    const name = /^## ([A-Za-z]\w*)\s*$/.exec(h[0])?.[1];
    return name ? [{ name, text: doc.slice(h.index, headings[i + 1]?.index ?? doc.length) }] : [];
  });
}

/** Everything wrong with the doc, one line each. */
function docProblems(
  doc: string,
  registry: Readonly<Record<string, string>>,
  stepsByRunbook: ReadonlyMap<string, readonly string[]>,
): string[] {
  const sections = runbookSections(doc);
  const registered = Object.keys(registry);
  const documented = sections.map((s) => s.name);
  const problems = [
    ...registered.filter((n) => !documented.includes(n)).map((n) => `no section "## ${n}"`),
    ...documented
      .filter((n) => !registered.includes(n))
      .map((n) => `section "## ${n}" is not a registered runbook`),
  ];
  const inRegistryOrder = registered.filter((n) => documented.includes(n));
  const documentedRegistered = documented.filter((n) => registered.includes(n));
  if (documentedRegistered.join() !== inRegistryOrder.join())
    problems.push(`sections out of registry order: ${documentedRegistered.join(', ')}`);
  for (const { name, text } of sections) {
    const description = registry[name];
    if (description === undefined) continue;
    const lines = text.split('\n').map((l) => l.trim());
    if (![`> ${description}`, `_${description}_`, `*${description}*`].some((l) => lines.includes(l)))
      problems.push(`## ${name} lacks its registry description on a line of its own: ${description}`);
    for (const step of stepsByRunbook.get(name) ?? []) {
      if (!text.includes(`\`${step}\``)) problems.push(`## ${name} does not name its step \`${step}\``);
    }
  }
  return problems;
}

const doc = read('docs/runbooks.md');
const files = runbookFiles(read('src/workflows/index.ts'));
const shared = sharedSteps(read('src/workflows/steps.ts'));
const stepsByRunbook = new Map([...files].map(([name, file]) => [name, stepsOf(read(file), shared)]));

describe('docs/runbooks.md', () => {
  it('finds each runbook source and its steps', () => {
    expect([...files.keys()].sort()).toEqual(Object.keys(RUNBOOKS).sort());
    for (const [name, steps] of stepsByRunbook) expect(steps.length, name).toBeGreaterThan(0);
    expect(stepsByRunbook.get('queueBacklog')).toEqual(
      expect.arrayContaining(['fix-relay-key-permissions', 'queue-drains', 'canary-delivered']),
    );
  });

  it('has one section per registered runbook, in registry order, with its description and steps', () => {
    expect(docProblems(doc, RUNBOOKS, stepsByRunbook)).toEqual([]);
  });
});

describe('the docs check', () => {
  const registry = { alpha: 'first runbook', beta: 'second runbook' };
  const steps = new Map([
    ['alpha', ['step-one']],
    ['beta', ['step-two']],
  ]);
  const section = (name: string, description: string, step: string) =>
    `## ${name}\n\n> ${description}\n\n1. \`${step}\`: does it.\n`;
  const good = `# Runbooks\n\nIntro.\n\n${section('alpha', 'first runbook', 'step-one')}\n${section('beta', 'second runbook', 'step-two')}\n## Adding a runbook\n\nText.\n`;

  it('accepts a doc that matches', () => {
    expect(docProblems(good, registry, steps)).toEqual([]);
  });

  it('reports a missing section, an unknown one, a wrong order, a missing description and a missing step', () => {
    expect(docProblems(section('alpha', 'first runbook', 'step-one'), registry, steps)).toEqual([
      'no section "## beta"',
    ]);
    expect(docProblems(`${good}\n${section('gamma', 'x', 'y')}`, registry, steps)).toEqual([
      'section "## gamma" is not a registered runbook',
    ]);
    expect(
      docProblems(
        `${section('beta', 'second runbook', 'step-two')}${section('alpha', 'first runbook', 'step-one')}`,
        registry,
        steps,
      ),
    ).toEqual(['sections out of registry order: beta, alpha']);
    expect(docProblems(good.replace('> first runbook', '> first runbook.'), registry, steps)).toEqual([
      '## alpha lacks its registry description on a line of its own: first runbook',
    ]);
    expect(docProblems(good.replace('`step-two`', 'step-two'), registry, steps)).toEqual([
      '## beta does not name its step `step-two`',
    ]);
  });

  it('follows the shared steps a runbook imports, and skips template-literal names', () => {
    const stepsSource = [
      'export async function inner(run) {',
      "  await run.verify('inner-step', (a) => a.x());",
      '}',
      'export async function outer(run) {',
      "  await run.wait(\n    'outer-step',\n    (a) => a.y(),\n  );",
      '  return inner(run);',
      '}',
    ].join('\n');
    const source = [
      "import { outer } from './steps.js';",
      "await run.check('own-step', (a) => a.z());",
      'await run.act(`restart-${program}`, {}, (a) => a.r());',
    ].join('\n');
    expect(stepsOf(source, sharedSteps(stepsSource))).toEqual(['own-step', 'outer-step', 'inner-step']);
  });
});
