/**
 * Reads the config file: YAML with positions, then the schema. Every problem is reported at once, as
 * `<file>:<line>:<col>: <path>: <what is wrong>`, so one run of `config check` shows all there is to fix.
 */
import { CLI_COMMAND } from '../shared/cli-command.js';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { Config } from './schema.js';
import { listSecretRefs } from './secrets.js';
import { displayPath, validateConfig, type RawPath } from './validate.js';

export interface ConfigProblem {
  file: string;
  /** 1-based position in the file, when the problem has one. */
  line?: number;
  col?: number;
  /** Where in the config, e.g. `targets.lab.relay.ssh.port`; empty for file-level problems. */
  path: string;
  message: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.col ?? 1}`;
  return p.path ? `${where}: ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

/** Thrown for any invalid config; the message has one line per problem and never a secret value. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/** The position of the deepest node on `path` that exists (the key's line for a mapping entry). */
function locate(doc: Document, path: RawPath, lines: LineCounter): { line: number; col: number } | undefined {
  let node: unknown = doc.contents;
  let offset = isNode(node) ? node.range?.[0] : undefined;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === segment);
      if (!pair) break;
      offset = (isNode(pair.key) ? pair.key.range?.[0] : undefined) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      if (!isNode(node)) break;
      offset = node.range?.[0] ?? offset;
    } else break;
  }
  return offset === undefined ? undefined : lines.linePos(offset);
}

/**
 * Parses and validates config text. `file` names it in messages; `baseDir`, when given, is where
 * relative secret `file:` paths are resolved (they are made absolute in the result).
 */
export function parseConfig(text: string, file: string, baseDir?: string): Config {
  const lines = new LineCounter();
  // No pretty errors: their code frame would quote the line, which may hold a secret pasted inline.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        file,
        ...lines.linePos(e.pos[0]),
        path: '',
        message: `YAML syntax error: ${e.message.split('\n')[0] ?? e.code}`,
      })),
    );
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  if (raw === null || raw === undefined) {
    throw new ConfigError([{ file, path: '', message: 'the file is empty; expected version, targets, ...' }]);
  }
  const result = validateConfig(raw);
  if (!result.ok) {
    const problems = result.problems.map((p) => ({
      file,
      ...locate(doc, p.path, lines),
      path: displayPath(p.path, raw),
      message: p.message,
    }));
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
    throw new ConfigError(problems);
  }
  if (baseDir !== undefined) {
    for (const { ref } of listSecretRefs(result.config)) {
      if ('file' in ref && !isAbsolute(ref.file)) ref.file = resolve(baseDir, ref.file);
    }
  }
  return result.config;
}

function readProblem(err: unknown): string {
  const code = err instanceof Error && 'code' in err ? err.code : undefined;
  if (code === 'ENOENT') return 'config file not found';
  if (code === 'EACCES') return 'config file not readable (permission denied)';
  if (code === 'EISDIR') return 'is a folder, not a config file';
  return `cannot read the config file (${typeof code === 'string' ? code : 'unknown error'})`;
}

/** Reads, parses and validates the config file; relative secret files resolve against its folder. */
export async function loadConfig(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file: path, path: '', message: readProblem(err) }]);
  }
  return parseConfig(text, path, dirname(resolve(path)));
}

export interface ConfigPathChoice {
  path: string;
  /** Why this file: given, from MRB_CONFIG, found in the working folder, written by the lab, or none found. */
  reason: string;
  exists: boolean;
  /** Where the choice came from; `lab` only in a checkout of the project (see labFallbackAllowed). */
  source: 'option' | 'env' | 'cwd' | 'lab' | 'none';
}

export const DEFAULT_CONFIG_PATHS = ['mail-runbooks.yaml', '.lab/target.yaml'] as const;

/** The folder of the lab's image sources: present in a checkout of the project, not in the installed package. */
const LAB_SOURCES = fileURLToPath(new URL('../../lab/images', import.meta.url));

/**
 * Whether a run with no config given may use the lab's generated file: only in a checkout of the project
 * (where the lab can be built), and not when MRB_LAB=off. The installed package never does.
 */
export function labFallbackAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.MRB_LAB !== 'off' && existsSync(LAB_SOURCES);
}

/** What to do when no config file was found, for error messages. */
export const CONFIG_HINT =
  'give one with --config <file> or MRB_CONFIG=<file>, or create ./mail-runbooks.yaml ' +
  `(start from docs/config.example.yaml; \`${CLI_COMMAND} config check -c <file>\` validates it)`;

/**
 * Which config file to use: --config, else $MRB_CONFIG, else ./mail-runbooks.yaml, else (in a checkout of
 * the project only, see labFallbackAllowed) .lab/target.yaml. A file that was given is used even when it is
 * missing, so that the caller reports it rather than quietly taking another.
 */
export function resolveConfigPath(
  options: { explicit?: string; env?: NodeJS.ProcessEnv; cwd?: string; allowLab?: boolean } = {},
): ConfigPathChoice {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const allowLab = options.allowLab ?? labFallbackAllowed(env);
  const at = (p: string) => resolve(cwd, p);
  if (options.explicit) {
    return {
      path: at(options.explicit),
      reason: 'given with --config',
      exists: existsSync(at(options.explicit)),
      source: 'option',
    };
  }
  const fromEnv = env.MRB_CONFIG;
  if (fromEnv)
    return { path: at(fromEnv), reason: 'from MRB_CONFIG', exists: existsSync(at(fromEnv)), source: 'env' };
  const [main, lab] = DEFAULT_CONFIG_PATHS;
  if (existsSync(at(main)))
    return { path: at(main), reason: `./${main} in the working folder`, exists: true, source: 'cwd' };
  if (allowLab && existsSync(at(lab)))
    return {
      path: at(lab),
      reason: `${lab}, written by the lab (no config given)`,
      exists: true,
      source: 'lab',
    };
  const looked = allowLab ? `neither ./${main} nor ./${lab} exists` : `./${main} does not exist`;
  return {
    path: at(main),
    reason: `none found: MRB_CONFIG is unset and ${looked} in ${cwd}`,
    exists: false,
    source: 'none',
  };
}

/** The one-line error for a chosen config file that does not exist, with what to do. */
export function missingConfigMessage(choice: ConfigPathChoice): string {
  if (choice.source === 'none') return `no config file (${choice.reason}): ${CONFIG_HINT}`;
  const fix =
    choice.source === 'env'
      ? 'create it, or point MRB_CONFIG at an existing file'
      : 'create it, or give an existing file';
  return `config file ${choice.path} (${choice.reason}) does not exist: ${fix} (start from docs/config.example.yaml)`;
}
