/**
 * `npm run bench -- <name>`: runs bench/<name>.ts (each prints its figures, with a baseline measured in the
 * same run). Without a name, lists them.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const names = readdirSync('bench')
  .filter(
    (f) =>
      f.endsWith('.ts') &&
      !['run.ts', 'approve.ts', 'fleet-breakdown.ts', 'noop-action-names.ts'].includes(f) && // helpers the benchmarks share
      !f.endsWith('-server.ts') &&
      !f.endsWith('-activities.ts'),
  )
  .map((f) => f.slice(0, -3))
  .sort();
const name = process.argv[2];
if (!name || !names.includes(name)) {
  console.error(
    `${name ? `no benchmark "${name}". ` : ''}usage: npm run bench -- <name>; one of: ${names.join(', ')}`,
  );
  process.exit(name ? 2 : 0);
}
// Ctrl-C reaches the benchmark too (same process group): wait for it to clean up and exit, so that a lock held
// around `npm run bench` (flock) is held until then.
process.on('SIGINT', () => {});
const run = spawnSync(
  process.execPath,
  ['--expose-gc', '--import', 'tsx', `bench/${name}.ts`, ...process.argv.slice(3)],
  {
    stdio: 'inherit',
  },
);
process.exit(run.status ?? 1);
