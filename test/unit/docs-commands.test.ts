/**
 * The docs show commands that work: every `mail-runbooks ...` command line in README.md, docs/*.md and
 * monitoring/README.md (in inline code or a code block) parses with the current CLI (src/client.ts
 * checkCommandLine: the real command tree, actions replaced by no-ops). Placeholders are read as values:
 * `<run>` and `NAME` become a word, `[--json]` an option given. And the CLI's own hints name it the one way
 * (CLI_COMMAND), never a bare `mail-runbooks <command>`, which is not on PATH in a clone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram, checkCommandLine, leafCommands } from '../../src/client.js';

const DOCS = [
  'README.md',
  'monitoring/README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
];

/** Shell-like words: quotes group, and are removed. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) {
    if (m[3] === '...' || m[3] === '…') continue; // "and so on", unquoted
    out.push(m[1] ?? m[2] ?? m[3] ?? '');
  }
  return out;
}

/** The argument words of one shown command line, placeholders made concrete. */
export function shownArgs(commandLine: string): string[] {
  const cut = commandLine
    .replace(/\s+/g, ' ')
    .replace(/<[^>]*>/g, 'x') // a placeholder, even one with spaces
    .replace(/\s\((or|and|see|e\.g\.)\b.*$/, '') // prose after the command
    .replace(/\s#.*$/, '') // a shell comment
    .replace(/[|;&]{1,2}\s.*$/, ''); // a pipe or a second command
  return words(cut)
    .map((w) => w.replace(/[[\]]/g, ''))
    .filter((w) => w !== '')
    .map((w) => (/^<[^>]*>$|^[A-Z][A-Z_]+$/.test(w) ? 'x' : w.split('|')[0]!.replace(/<[^>]*>/g, 'x')));
}

/** Every command line shown in a markdown text: from inline code and from fenced code blocks. */
export function shownCommands(markdown: string): string[] {
  const spans: string[] = [];
  const fence = /^\s*```[^\n]*\n([\s\S]*?)^\s*```/gm;
  for (const m of markdown.matchAll(fence)) spans.push(...m[1]!.split('\n'));
  for (const m of markdown.replace(fence, '').matchAll(/`([^`]+)`/g)) spans.push(m[1]!.replace(/\s+/g, ' '));
  return spans.flatMap((span) =>
    [...span.matchAll(/(?:^|\(|&& |; )\s*(?:npx |npm run cli -- )?mail-runbooks((?: +[^\s`]+)+)/g)].map((m) =>
      m[1]!.trim(),
    ),
  );
}

describe('commands shown in the docs', () => {
  const shown = DOCS.flatMap(
    (file) =>
      shownCommands(readFileSync(file, 'utf8'))
        .map((line) => ({ file, line, args: shownArgs(line) }))
        .filter(({ args }) => args.length > 0), // `mail-runbooks ...` in prose names the CLI, not a command
  );

  it('are there to check (the extraction finds the README and runbook examples)', () => {
    expect(shown.length).toBeGreaterThan(10);
    expect(shown.map((s) => s.args[0])).toEqual(
      expect.arrayContaining(['approve', 'audit', 'start', 'config']),
    );
  });

  it('each parse with the current CLI', async () => {
    const failures: string[] = [];
    for (const { file, line, args } of shown) {
      const result = await checkCommandLine(args);
      if (!result.ok) failures.push(`${file}: mail-runbooks ${line}\n    ${result.error.trim()}`);
    }
    expect(failures).toEqual([]);
  });

  it('a command that does not parse is caught (the check is not a no-op)', async () => {
    expect((await checkCommandLine(shownArgs('approve <run>'))).ok).toBe(false); // --by is required
    expect((await checkCommandLine(shownArgs('frobnicate x'))).ok).toBe(false);
    expect((await checkCommandLine(shownArgs('start queueBacklog --no-such-option'))).ok).toBe(false);
    expect((await checkCommandLine(shownArgs('approve <run> --by alice [--json]'))).ok).toBe(true);
  });
});

describe('the CLI itself', () => {
  it('offers -c/--config on every command', () => {
    const without = leafCommands(buildProgram())
      .filter(({ command }) => !command.options.some((o) => o.short === '-c' && o.long === '--config'))
      .map(({ name }) => name.join(' '));
    expect(without).toEqual([]);
  });

  it('names a run `<run>` wherever it takes one, and its help says nothing of Temporal internals', () => {
    // "update" and "query" are English too: Temporal's are capitalized.
    const internals = /\b(workflow|task queue|signal|activit(y|ies)|namespace)\b/i;
    const capitalized = /\b(Update|Query)\b/;
    for (const { name, command } of leafCommands(buildProgram())) {
      const args = command.registeredArguments.map((a) => a.name());
      expect(
        args.filter((a) => /workflow|id$/i.test(a)),
        name.join(' '),
      ).toEqual([]);
      if (['show', 'approve', 'reject', 'cancel', 'watch'].includes(name[0]!))
        expect(args[0], name.join(' ')).toBe('run');
      const help = [
        command.description(),
        ...command.registeredArguments.map((a) => a.description),
        ...command.options.map((o) => o.description),
      ].join('\n');
      expect(help, name.join(' ')).not.toMatch(internals);
      expect(help, name.join(' ')).not.toMatch(capitalized);
    }
  });

  it('hints name the CLI one way (CLI_COMMAND), never a bare `mail-runbooks <command>`', () => {
    const leaves = new Set(leafCommands(buildProgram()).map(({ name }) => name[0]));
    const bare = new RegExp(`(?<!npx )\\bmail-runbooks (${[...leaves].join('|')})\\b`);
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (path.endsWith('.ts')) {
          readFileSync(path, 'utf8')
            .split('\n')
            .forEach((text, i) => {
              if (bare.test(text) && !/^\s*(\*|\/\/|\/\*)/.test(text))
                offenders.push(`${path}:${i + 1}: ${text.trim()}`);
            });
        }
      }
    };
    walk('src');
    expect(offenders).toEqual([]);
  });
});
