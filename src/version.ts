/**
 * What is running: the package version, and the git commit when known (written into dist/ at build time by
 * scripts/build-info.mjs; asked of git in a checkout run from source). `--version` prints it and the worker
 * logs it, so an upgrade can be told apart in the logs and in the workers' identities.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// src/version.ts and dist/version.js both sit one level below the package root.
const packageRoot = fileURLToPath(new URL('..', import.meta.url));

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function gitCommit(): string | undefined {
  const built = readJson(fileURLToPath(new URL('./build-info.json', import.meta.url)));
  if (typeof built?.commit === 'string') return built.commit;
  if (!existsSync(`${packageRoot}/.git`)) return undefined;
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: packageRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 2000,
    }).trim();
  } catch {
    return undefined; // no git on PATH: the version alone
  }
}

export interface VersionInfo {
  version: string;
  commit?: string;
}

let cached: VersionInfo | undefined;

export function versionInfo(): VersionInfo {
  if (!cached) {
    const version = readJson(`${packageRoot}/package.json`)?.version;
    const commit = gitCommit();
    cached = { version: typeof version === 'string' ? version : 'unknown', ...(commit && { commit }) };
  }
  return cached;
}

/** `0.1.0` or `0.1.0 (commit 0123456789ab)`. */
export function versionLine(): string {
  const { version, commit } = versionInfo();
  return commit ? `${version} (commit ${commit})` : version;
}
