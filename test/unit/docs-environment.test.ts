/**
 * docs/environment.md is the one reference of environment variables: every variable src/, bin/ or scripts/ reads
 * (process.env.X, env.X on a ProcessEnv parameter, commander's .env('X')) is listed there, and every
 * variable listed outside the Temporal section (whose variables @temporalio/envconfig reads for us) is read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const READS = [
  /process\.env\.([A-Z_][A-Z0-9_]*)/g,
  /process\.env\[['"]([A-Z_][A-Z0-9_]*)['"]\]/g,
  /\benv\.([A-Z_][A-Z0-9_]*)\b/g,
  /\.env\(['"]([A-Z_][A-Z0-9_]*)['"]\)/g,
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(ts|js|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** Variable -> the files that read it; comments are skipped (they name variables without reading them). */
function readVariables(): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  for (const file of [...sources('src'), ...sources('bin'), ...sources('scripts')]) {
    const code = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    for (const pattern of READS)
      for (const m of code.matchAll(pattern)) {
        const files = found.get(m[1]!) ?? new Set<string>();
        files.add(file);
        found.set(m[1]!, files);
      }
  }
  return found;
}

const doc = readFileSync('docs/environment.md', 'utf8');
/** Variables named in the first column of a table, per section. */
const documented = doc.split(/^## /m).flatMap((section) => {
  const title = section.split('\n')[0]!;
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) =>
      [...line.split('|')[1]!.matchAll(/`([A-Z_][A-Z0-9_]*)`/g)].map((m) => ({ name: m[1]!, title })),
    );
});

it('lists every environment variable the code reads', () => {
  const names = new Set(documented.map((d) => d.name));
  const missing = [...readVariables()]
    .filter(([name]) => !names.has(name))
    .map(([name, files]) => `${name} (${[...files].join(', ')})`);
  expect(missing, 'add them to docs/environment.md').toEqual([]);
  expect(names.size).toBeGreaterThan(15);
});

it('lists nothing the code does not read (the Temporal client variables excepted: envconfig reads them)', () => {
  const read = readVariables();
  const stale = documented
    .filter((d) => !read.has(d.name) && d.title !== 'Temporal connection')
    .map((d) => d.name);
  expect(stale).toEqual([]);
});
