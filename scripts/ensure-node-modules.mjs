#!/usr/bin/env node
/**
 * Runs before `npm start`, `npm test` and `npm run lab` (npm's pre-scripts): installs node_modules when
 * they are missing or were installed from another package-lock.json, so a fresh clone needs no separate
 * install step. Plain Node, no dependencies (it runs before there are any).
 *
 * `npm ci` first; where the registry mirror lacks other platforms' optional packages that the lock lists
 * (npm ci then calls the lock out of sync), `npm install` with the same pinned versions, and the committed
 * lock is put back if npm rewrote it. A stamp in node_modules records which lock was installed.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const say = (message) => process.stderr.write(`mail-runbooks: ${message}\n`);

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lock = join(root, 'package-lock.json');
const stamp = join(root, 'node_modules', '.mrb-lock');
const hash = createHash('sha256').update(readFileSync(lock)).digest('hex').slice(0, 16);

if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) process.exit(0);

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (args) =>
  spawnSync(npm, args, { cwd: root, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });

say(`node_modules missing or not from this package-lock.json: installing (npm ci)`);
// --loglevel: under `npm run -s` npm ci would inherit "silent" and not say why it refused.
let result = run(['ci', '--no-audit', '--no-fund', '--loglevel=error']);
if (result.status !== 0) {
  const why = (result.stderr ?? '')
    .split('\n')
    .filter((l) => /^npm (error|ERR!) \S/.test(l))
    .slice(0, 4);
  say(
    `npm ci refused (${why.join(' | ') || `exit ${result.status}`}); ` +
      'falling back to npm install with the versions package-lock.json pins',
  );
  const backup = `${lock}.mrb-backup`;
  copyFileSync(lock, backup);
  result = run(['install', '--no-audit', '--no-fund']);
  if (readFileSync(lock, 'utf8') !== readFileSync(backup, 'utf8')) {
    copyFileSync(backup, lock);
    say('npm install rewrote package-lock.json; the committed one is restored');
  }
  rmSync(backup, { force: true });
}
if (result.status !== 0) {
  process.stderr.write(result.stderr ?? '');
  say(
    'could not install the node modules (npm ci and npm install failed, above). ' +
      'Needed: Node.js 20.19+ with npm, and a reachable npm registry (npm config get registry).',
  );
  process.exit(1);
}
writeFileSync(stamp, `${hash}\n`);
say('node modules installed');
