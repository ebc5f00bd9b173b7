/**
 * `npm run chaos`: every remediation runbook against its lab fault, killed at every point (see
 * scenarios.ts), with a table of scenario × kill point → verdict and the counts from the lab's logs.
 *
 *   npm run chaos                         the full matrix (about 4 hours: some 130 cases of 1 to 3 minutes)
 *   npm run chaos -- --sample             the CI sample (under 5 minutes)
 *   npm run chaos -- --only relayUnres    scenarios whose name contains the text (repeatable)
 *   npm run chaos -- --kills inside       no kill, kills inside actions and the server kills (no step boundaries)
 *   npm run chaos -- --kills boundaries   only the step-boundary kills
 *   npm run chaos -- --kills after,server a list of: none, boundary, before, during, after, server
 *
 *   npm run chaos -- --table r.jsonl      the table of a MRB_CHAOS_RESULTS file (one JSON line per case)
 *   npm run chaos -- --resume r.jsonl     skip the cases that file records as passed on the same code
 *
 * MRB_LAB_LOCK=/tmp/mrb-lab.lock holds that lock (flock) per case, so others can use the lab in between.
 * MRB_CHAOS_UNTIL=<time> (anything Date.parse reads, e.g. 2026-12-01T19:45Z): start no case after it; the
 * running one ends normally (healed, shims removed), so a time-boxed run leaves the lab clean.
 * Exits 1 when a case failed.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { log, runCase, startChaos, table, type CaseResult } from './harness.js';
import { stopCounting } from './lab-counters.js';
import { killPointLabel, killPoints, SAMPLE, SCENARIOS, type KillPoint, type Scenario } from './scenarios.js';

/**
 * A kill point's kind, as --kills names it: none, boundary (between steps), start (as an activity starts),
 * before, during, after, server.
 */
function kindOf(k: KillPoint): string {
  if (k.kind === 'worker') return k.point;
  return k.kind === 'none' ? 'none' : 'server';
}

/** --kills: named sets, or a comma list of kinds. */
const KILL_SETS: Record<string, readonly string[]> = {
  all: ['none', 'boundary', 'before', 'during', 'after', 'server'],
  inside: ['none', 'before', 'during', 'after', 'server'],
  boundaries: ['boundary'],
};

function killKinds(option = 'all'): readonly string[] {
  const kinds = KILL_SETS[option] ?? option.split(',');
  const unknown = kinds.filter((k) => !KILL_SETS.all!.includes(k));
  if (unknown.length > 0) {
    throw new Error(
      `--kills: ${Object.keys(KILL_SETS).join(', ')}, or a list of ${KILL_SETS.all!.join(',')}`,
    );
  }
  return kinds;
}

export function chaosCases(options: {
  sample?: boolean;
  only?: string[];
  kills?: string;
}): [Scenario, KillPoint][] {
  if (options.sample) {
    return SAMPLE.map(({ scenario, kill }) => {
      const s = SCENARIOS.find((x) => x.name === scenario)!;
      return [s, kill(s)];
    });
  }
  const scenarios = SCENARIOS.filter(
    (s) => !options.only?.length || options.only.some((o) => s.name.includes(o)),
  );
  const kinds = killKinds(options.kills);
  return scenarios.flatMap((s) =>
    killPoints(s)
      .filter((k) => kinds.includes(kindOf(k)))
      .map((k): [Scenario, KillPoint] => [s, k]),
  );
}

/**
 * What the cases run on: the commit, and the code under test (the trees of src/, lab/ and test/chaos/ and the
 * lock file) with "+changes" when the work tree differs, so a matrix split over several runs resumes only on
 * the same code, whatever docs changed in between.
 */
function codeUnderTest(): { commit: string; code: string } {
  const git = (...args: string[]): string => execFileSync('git', args, { encoding: 'utf8' }).trim();
  const paths = ['src', 'lab', 'test/chaos', 'package-lock.json'];
  try {
    const trees = git('rev-parse', ...paths.map((p) => `HEAD:${p}`));
    const code = createHash('sha256').update(trees).digest('hex').slice(0, 12);
    const dirty = git('status', '--porcelain', '--', ...paths) ? '+changes' : '';
    return { commit: git('rev-parse', '--short', 'HEAD'), code: `${code}${dirty}` };
  } catch {
    return { commit: 'unknown', code: 'unknown' };
  }
}

/** The cases not yet passed on this commit according to a results file (a matrix split over several runs). */
async function notYetPassed(cases: [Scenario, KillPoint][], file: string): Promise<[Scenario, KillPoint][]> {
  const { code } = codeUnderTest();
  const text = await readFile(file, 'utf8').catch(() => '');
  const passed = new Set(
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as CaseResult & { code?: string })
      .filter((r) => r.ok && r.code === code)
      .map((r) => `${r.scenario} × ${r.kill}`),
  );
  const left = cases.filter(([s, k]) => !passed.has(`${s.name} × ${killPointLabel(k)}`));
  log(
    `--resume ${file}: ${cases.length - left.length} of ${cases.length} cases already passed on code ${code}`,
  );
  return left;
}

export async function runChaos(cases: [Scenario, KillPoint][]): Promise<CaseResult[]> {
  const chaos = await startChaos();
  const results: CaseResult[] = [];
  const under = codeUnderTest();
  try {
    const until = process.env.MRB_CHAOS_UNTIL ? Date.parse(process.env.MRB_CHAOS_UNTIL) : Infinity;
    if (Number.isNaN(until)) throw new Error(`MRB_CHAOS_UNTIL: not a time: ${process.env.MRB_CHAOS_UNTIL}`);
    for (const [i, [s, k]] of cases.entries()) {
      if (Date.now() > until) {
        log(`MRB_CHAOS_UNTIL passed: ${cases.length - i} of ${cases.length} cases not started`);
        break;
      }
      log(`case ${i + 1}/${cases.length}`);
      const result = await runCase(chaos, s, k);
      results.push(result);
      // MRB_CHAOS_RESULTS: one JSON line per case as it ends, so a long matrix cut short keeps its table
      if (process.env.MRB_CHAOS_RESULTS) {
        await appendFile(process.env.MRB_CHAOS_RESULTS, `${JSON.stringify({ ...result, ...under })}\n`);
      }
    }
  } finally {
    stopCounting();
    await chaos.client.connection.close().catch(() => undefined);
    await chaos.server.stop();
  }
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sample: { type: 'boolean' },
      only: { type: 'string', multiple: true },
      kills: { type: 'string' },
      table: { type: 'string' },
      resume: { type: 'string' },
    },
  });
  if (values.table) {
    // --table <file>: the table of a MRB_CHAOS_RESULTS file (e.g. a long matrix cut short), nothing run
    const lines = (await readFile(values.table, 'utf8')).split('\n').filter(Boolean);
    console.log(table(lines.map((l) => JSON.parse(l) as CaseResult)));
    return;
  }
  const all = chaosCases(values);
  const cases = values.resume ? await notYetPassed(all, values.resume) : all;
  const t0 = Date.now();
  const results = await runChaos(cases);
  console.log(table(results));
  console.log(`wall time ${Math.round((Date.now() - t0) / 1000)} s`);
  process.exitCode = results.every((r) => r.ok) ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(2);
  });
}
