/**
 * Queue summary at the floor (issue 14, point 1), on a mail server container of its own: starts
 * `mrb-bench-queue` from the lab's mail server image (no network), fills its queue with the image's
 * `lab-queue-flood` tool (what the lab's queue-flood fault runs), and for each size measures, interleaved,
 * median of BENCH_ROUNDS:
 *   - floor:    `postqueue -j > /dev/null` in the container (listing the queue, which no summary avoids);
 *   - qshape:   `qshape deferred > /dev/null` in the container;
 *   - summary:  the real queueSummary activity (coalesced listing through docker exec into the accumulator);
 *   - uncoalesced: plain `postqueue -j` through the same transport into the same accumulator (the old way);
 *   - count:    the drain wait's poll (queueFileCount through the same transport).
 * Prints ratios against the floor measured in the same run; the CPU each cost (the container's cgroup,
 * this process and dockerd: a loaded machine stretches wall times, CPU far less); the summary's peak RSS
 * alone in a child process (what a worker pays for it) and this process's RSS sampled every 20 ms; the
 * result's JSON size, and seconds per 100k messages across sizes. Removes the
 * container at the end (BENCH_KEEP=1 keeps it).
 *
 *   npm run bench -- queue-floor
 *     BENCH_SIZES=100000,300000,1000000 (ascending; the queue grows between sizes)
 *     BENCH_ROUNDS=3 (or one per size, e.g. 3,2,1)
 *     BENCH_CONTAINER=mrb-bench-queue, BENCH_REUSE=1 (use a running container and its queue),
 *     BENCH_CPU_SHARES=2 (the container's share on a shared machine; default Docker's),
 *     BENCH_MEMORY_MB=8192 (the container's memory limit, page cache included),
 *     BENCH_MIX=1: a mixed queue instead of one sender/one domain: BENCH_SENDERS (200) senders with
 *       Zipf-like shares, ~thousands of recipient domains, 12 deferral reasons (defer logs written for
 *       every message, as Postfix's own would be).
 * Run it under `nice -n 19 ionice -c3` on a shared machine; the ratios compare figures of the same run.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { closeAllHosts, targetConfig } from '../src/activities/context.js';
import { queueSummary } from '../src/activities/queue.js';
import { dmsCommands } from '../src/commands/dms.js';
import { LAB_LABEL } from '../src/lab/settings.js';
import { dexec, dexecOk, pollUntil } from '../src/lab/docker.js';
import { parseQueueFileCount, QueueSummaryAccumulator } from '../src/parsers/queue-summary.js';
import { DockerTransport } from '../src/transports/docker.js';
import { writeOneTargetConfig } from '../test/helpers/one-target-config.js';

const CONTAINER = process.env.BENCH_CONTAINER ?? 'mrb-bench-queue';
const IMAGE = process.env.BENCH_IMAGE ?? 'mrb-lab/mail:latest';
const SOCKET = '/var/run/docker.sock';
const sizes = (process.env.BENCH_SIZES ?? '100000').split(',').map(Number);
/** Rounds per size (one number for all, or one per size: a 1M round takes minutes). */
const ROUNDS = (process.env.BENCH_ROUNDS ?? '3').split(',').map(Number);
/** The uncoalesced reference only up to this size (it is the old way, shown once). */
const REFERENCE_UP_TO = Number(process.env.BENCH_REFERENCE_UP_TO ?? '100000');
/** qshape only up to this size (BENCH_QSHAPE_UP_TO; minutes per round at 1M). */
const QSHAPE_UP_TO = Number(process.env.BENCH_QSHAPE_UP_TO ?? 'Infinity');
const MIX = process.env.BENCH_MIX === '1';
/** Reuse a running bench container (BENCH_KEEP=1 of an earlier run) and its queue instead of starting afresh. */
const REUSE = process.env.BENCH_REUSE === '1';
/** The container's CPU shares (a shared machine wants 2; 0 leaves Docker's default). */
const CPU_SHARES = Number(process.env.BENCH_CPU_SHARES ?? '0');
const SENDERS = Number(process.env.BENCH_SENDERS ?? '200');
/**
 * The container's memory limit, which its page cache counts against: a million queue files take some
 * 4 GiB of cache plus their inodes, and a listing that no longer finds them cached reads each from disk.
 */
const MEMORY_MB = Number(process.env.BENCH_MEMORY_MB ?? '8192');
const DOMAIN_GROUPS = 8;
const FLOOD_MAX = 1_000_000; // lab-queue-flood's own bound per call

const docker = new Docker({ socketPath: SOCKET });

/**
 * The image's start script wants a certificate, an account and the probes' modules (which the lab puts in
 * as /etc/lab/blackbox.yml); amavis wants its host name to resolve (no network, so /etc/hosts) or it
 * restarts every few seconds, burning the CPU the figures measure. Made inside, then the image's own CMD.
 */
const BOOT = [
  'echo "127.0.0.1 mail.bench.test mail" >> /etc/hosts && echo mail.bench.test > /etc/mailname',
  'mkdir -p /etc/lab && printf "%s" "$BENCH_BLACKBOX_YML" > /etc/lab/blackbox.yml',
  'mkdir -p /etc/dms/tls /tmp/docker-mailserver',
  'openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=mail.bench.test -days 2 -keyout /etc/dms/tls/key.pem -out /etc/dms/tls/cert.pem 2>/dev/null',
  'echo "bench@bench.test|{PLAIN}unused" > /tmp/docker-mailserver/postfix-accounts.cf',
  ': > /tmp/docker-mailserver/postfix-sasl-password.cf',
  'exec /usr/bin/supervisord -c /etc/supervisor/supervisord.conf',
].join(' && ');

/**
 * Writes a defer log (what Postfix's own deferral leaves, and where postqueue's delay_reason comes from)
 * for every mixed-queue message: one of 12 reasons, with the address parts normalisation folds. The
 * attribute names are bounce_log's (notify_flags, not dsn_notify): showq warns in the mail log about an
 * unknown one, for every message at every listing, which made the listings (not qshape) pay for syslog.
 */
const DEFER_LOGS = String.raw`
use strict; use warnings;
my $spool = '/var/spool/postfix';
my @reasons = (
  'connect to mx%d.example[192.0.2.%d]:25: Connection refused',
  'connect to mx%d.example[192.0.2.%d]:25: Connection timed out',
  'host mx%d.example[192.0.2.%d] said: 421 4.7.0 Try again later (in reply to end of DATA command)',
  'host mx%d.example[192.0.2.%d] said: 450 4.2.1 Mailbox busy (in reply to RCPT TO command)',
  'host mx%d.example[192.0.2.%d] said: 451 4.3.0 Temporary lookup failure (in reply to RCPT TO command)',
  'host mx%d.example[192.0.2.%d] said: 452 4.2.2 Mailbox full (in reply to RCPT TO command)',
  'lost connection with mx%d.example[192.0.2.%d] while receiving the initial server greeting',
  'conversation with mx%d.example[192.0.2.%d] timed out while sending message body',
  'Host or domain name not found. Name service error for name=mx%d.example type=MX: Host not found, try again',
  'delivery temporarily suspended: connect to mx%d.example[192.0.2.%d]:25: No route to host',
  'SASL authentication failed; server mx%d.example[192.0.2.%d] said: 535 5.7.8 Error: authentication failed',
  'TLS is required, but host mx%d.example[192.0.2.%d] refused to start TLS',
);
my ($uid, $gid) = (getpwnam('postfix'))[2, 3];
my $n = 0;
for my $f (glob "$spool/deferred/*/*") {
  open(my $fh, '<:raw', $f) or next;
  my $c = do { local $/; <$fh> };
  close $fh;
  my ($rcpt, $seq) = $c =~ /(u\@dFLOODSEQ(\d{9})\.g\d+\.example)/ or next;
  my ($id) = $f =~ m{/([^/]+)$};
  my $dir = "$spool/defer/" . substr($id, 0, 1);
  unless (-d $dir) { mkdir($dir, 0700) or die "$dir: $!\n"; chown $uid, $gid, $dir; }
  my $host = $seq % 97;
  (my $reason = $reasons[$seq % @reasons]) =~ s/%d/$host/;
  $reason =~ s/%d/$seq % 250 + 1/e;
  open(my $out, '>', "$dir/$id") or die "$dir/$id: $!\n";
  print $out "recipient=$rcpt\noffset=0\ndsn_orig_rcpt=\nnotify_flags=0\nstatus=4.4.1\naction=delayed\nreason=$reason\n\n";
  close $out;
  chown $uid, $gid, "$dir/$id";
  $n++;
}
print "$n\n";
`;

async function removeContainer(): Promise<void> {
  await docker
    .getContainer(CONTAINER)
    .remove({ force: true, v: true })
    .catch(() => undefined);
}

async function startContainer(): Promise<void> {
  await removeContainer();
  const c = await docker.createContainer({
    name: CONTAINER,
    Image: IMAGE,
    Hostname: 'mail',
    Domainname: 'bench.test',
    Env: [
      'LAB_ROLE=mailserver',
      'OVERRIDE_HOSTNAME=mail.bench.test',
      'RELAY_HOST=relay.bench.test',
      'RELAY_PORT=2526',
      `BENCH_BLACKBOX_YML=${readFileSync('monitoring/blackbox.yml', 'utf8')}`,
    ],
    Cmd: ['bash', '-c', BOOT],
    // The image's labels include the lab's (org.mail-runbooks.lab=1); overriding it keeps `npm run lab -- down`
    // and `status` from taking this container for one of the lab's.
    Labels: { 'org.mail-runbooks.bench': 'queue-floor', [LAB_LABEL]: 'bench' },
    HostConfig: {
      NetworkMode: 'none',
      RestartPolicy: { Name: 'no' },
      Memory: MEMORY_MB * 1024 ** 2,
      ...(CPU_SHARES > 0 && { CpuShares: CPU_SHARES }),
    },
  });
  await c.start();
  await pollUntil(`${CONTAINER} to be ready`, 180_000, async () => {
    const r = await dexec(docker, CONTAINER, ['sh', '-c', 'test -e /var/lib/lab/ready && pgrep -x qmgr']);
    return r.exitCode === 0 ? true : undefined;
  });
}

/** A config whose one target is the bench container (the rest is required shape, never used here). */
async function writeConfig(dir: string): Promise<string> {
  return writeOneTargetConfig({
    dir,
    file: 'bench.yaml',
    name: 'bench',
    domain: 'bench.test',
    dockerSocket: SOCKET,
    container: CONTAINER,
    secretEnv: 'MRB_BENCH_UNUSED',
  });
}

async function flood(n: number, env: string[] = []): Promise<void> {
  for (let left = n; left > 0; left -= FLOOD_MAX) {
    await dexecOk(docker, CONTAINER, ['lab-queue-flood', 'create', String(Math.min(left, FLOOD_MAX))], {
      env,
      timeoutMs: 3_600_000,
    });
  }
}

/** n more messages spread over SENDERS senders (Zipf-like shares) and DOMAIN_GROUPS x (seq) domains. */
async function floodMixed(n: number): Promise<void> {
  const weights = Array.from({ length: SENDERS }, (_, j) => 1 / (j + 1) ** 0.8);
  const total = weights.reduce((a, b) => a + b, 0);
  let made = 0;
  for (let j = 0; j < SENDERS; j++) {
    const count = j === SENDERS - 1 ? n - made : Math.max(1, Math.round((n * (weights[j] ?? 0)) / total));
    if (count <= 0) continue;
    made += count;
    await flood(count, [
      `FLOOD_SENDER=sender${String(j).padStart(3, '0')}@senders.example`,
      `FLOOD_RCPT=u@dFLOODSEQ000000000.g${j % DOMAIN_GROUPS}.example`,
    ]);
  }
  await dexecOk(docker, CONTAINER, ['perl', '-e', DEFER_LOGS], { timeoutMs: 3_600_000 });
}

async function timed<T>(what: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t = performance.now();
  const value = await what();
  return { seconds: (performance.now() - t) / 1000, value };
}

async function inContainer(script: string): Promise<void> {
  await dexecOk(docker, CONTAINER, ['sh', '-c', script], { timeoutMs: 3_600_000 });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

type SummaryOutcome = Awaited<ReturnType<typeof queueSummary>>;

/** What the activity does, through the same transport, but under `timeoutMs` instead of the catalogue's limit. */
async function summaryPastTheLimit(transport: DockerTransport, timeoutMs: number): Promise<SummaryOutcome> {
  const acc = new QueueSummaryAccumulator({ now: Math.floor(Date.now() / 1000), topK: 10 });
  const cmd = dmsCommands.queueJson();
  const r = await transport.exec({
    argv: cmd.argv,
    timeoutMs,
    maxOutputBytes: cmd.maxOutputBytes,
    onStdoutLine: (line) => acc.addLine(line),
  });
  if (r.exitCode !== 0) throw new Error(`queue listing failed (exit ${r.exitCode})`);
  const evidence = acc.result();
  return {
    ok: false,
    summary: `${evidence.messages} queued (listed past the catalogue's limit)`,
    evidence,
  };
}

/**
 * The activity; where it fails (at 1M messages on a loaded machine: the catalogue's queueList limit),
 * says so and times the same listing without that limit, so the size's figures still come out.
 */
async function summaryOrPastTheLimit(
  run: () => Promise<SummaryOutcome>,
  transport: DockerTransport,
  onLimit: (message: string) => void,
): Promise<SummaryOutcome> {
  try {
    return await run();
  } catch (err) {
    onLimit(err instanceof Error ? err.message : String(err));
    return summaryPastTheLimit(transport, 3_600_000);
  }
}

/**
 * The summary's memory as a worker would see it: bench/queue-floor-child.mjs in a process of its own
 * loads the activity, runs it once and reports its RSS before the activity and its peak RSS (the whole
 * process's). `dist`: the compiled build under plain node, what an installed worker runs (the package
 * ships dist/ without tsx: bin/load-entry.js, deploy/); `src`: the sources under tsx, as a checkout runs.
 */
interface ChildReport {
  rssBeforeMb: number;
  peakRssMb: number;
  seconds: number;
  messages: number;
}

type ChildRuntime = 'dist' | 'src';
const CHILD_RUNTIMES = (process.env.BENCH_CHILD_RUNTIMES ?? 'dist,src').split(',') as ChildRuntime[];

/** The compiled build the `dist` child loads, from this checkout's sources (so it is never stale). */
async function buildDist(): Promise<void> {
  const child = spawn('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`tsc -p tsconfig.build.json exited ${code}`);
}

async function summaryInChild(runtime: ChildRuntime): Promise<ChildReport> {
  const loader = runtime === 'src' ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, 'bench/queue-floor-child.mjs'], {
    env: { ...process.env, BENCH_MODULES: runtime },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`summary child (${runtime}) exited ${code}: ${out}`);
  return JSON.parse(out.trim().split('\n').pop() ?? '') as ChildReport;
}

/** CPU seconds used so far by the bench container (cgroup v1 or v2), or NaN where neither is readable. */
function containerCpuSeconds(id: string): number {
  const v1 = [
    `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`,
    `/sys/fs/cgroup/cpu,cpuacct/docker/${id}/cpuacct.usage`,
  ];
  for (const path of v1) {
    try {
      return Number(readFileSync(path, 'utf8')) / 1e9;
    } catch {
      // try the next layout
    }
  }
  try {
    const stat = readFileSync(`/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`, 'utf8');
    return Number(/usage_usec (\d+)/.exec(stat)?.[1]) / 1e6;
  } catch {
    return NaN;
  }
}

/** CPU seconds of the Docker engine (it relays every byte of docker exec output), NaN if not found. */
function dockerdCpuSeconds(): number {
  try {
    const pid = readFileSync('/var/run/docker.pid', 'utf8').trim();
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Runs `what` and returns its wall time and the CPU it cost: the container's, ours and the engine's. */
async function costed<T>(
  id: string,
  what: () => Promise<T>,
): Promise<{ seconds: number; cpu: number; parts: [number, number, number]; value: T }> {
  const sample = (): [number, number, number] => [
    containerCpuSeconds(id),
    ownCpuSeconds(),
    dockerdCpuSeconds(),
  ];
  const before = sample();
  const r = await timed(what);
  const after = sample();
  const parts = after.map((x, i) => x - (before[i] ?? 0)) as [number, number, number];
  return { ...r, cpu: parts[0] + parts[1] + parts[2], parts };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'queue-floor-'));
  const transport = new DockerTransport({
    engine: { kind: 'unix', socketPath: SOCKET },
    container: CONTAINER,
  });
  try {
    process.env.MRB_CONFIG = await writeConfig(dir);
    if (CHILD_RUNTIMES.includes('dist')) await buildDist();
    await targetConfig('bench'); // a config mistake shows before minutes of setup
    let t = performance.now();
    let queued = 0;
    const running = await docker
      .getContainer(CONTAINER)
      .inspect()
      .then((i) => i.State.Running)
      .catch(() => false);
    if (REUSE && running) {
      const cmd = dmsCommands.queueFileCount();
      const r = await transport.exec({ argv: cmd.argv, timeoutMs: cmd.timeoutMs, maxOutputBytes: 4096 });
      queued = parseQueueFileCount(r.stdout);
      console.log(`${CONTAINER} reused, ${queued} messages queued`);
    } else {
      await startContainer();
      console.log(
        `${CONTAINER} (${IMAGE}, no network) up in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
    }
    const id = (await docker.getContainer(CONTAINER).inspect()).Id;
    // Loaded here, not at the top: the summary's child process must not carry the Temporal test kit.
    const { MockActivityEnvironment } = await import('@temporalio/testing');
    const env = new MockActivityEnvironment();
    const perHundredK: string[] = [];
    for (const n of sizes) {
      t = performance.now();
      if (n < queued) throw new Error(`${queued} messages already queued, more than ${n}`);
      if (MIX) await floodMixed(n - queued);
      else await flood(n - queued);
      queued = n;
      console.log(
        `\n== ${n.toLocaleString('en')} messages${MIX ? ' (mixed)' : ''}: queue filled in ${((performance.now() - t) / 1000).toFixed(0)} s`,
      );

      const runs: Record<'floor' | 'qshape' | 'summary' | 'uncoalesced' | 'count', number[]> = {
        floor: [],
        qshape: [],
        summary: [],
        uncoalesced: [],
        count: [],
      };
      const cpu: Record<'floor' | 'summary' | 'count', number[]> = { floor: [], summary: [], count: [] };
      let overLimit = false;
      const summaryParts: [number, number, number][] = [];
      let peakRss = 0;
      let idleRss = Infinity;
      let resultBytes = 0;
      let summaryText = '';
      let counted = 0;
      let top = '';
      const rounds = ROUNDS[sizes.indexOf(n)] ?? ROUNDS[ROUNDS.length - 1] ?? 3;
      for (let round = 0; round < rounds; round++) {
        const f = await costed(id, () => inContainer('postqueue -j > /dev/null'));
        runs.floor.push(f.seconds);
        cpu.floor.push(f.cpu);
        if (n <= QSHAPE_UP_TO)
          runs.qshape.push((await timed(() => inContainer('qshape deferred > /dev/null'))).seconds);

        const rssBefore = process.memoryUsage().rss;
        let rss = rssBefore;
        const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 20);
        let s: Awaited<ReturnType<typeof costed<SummaryOutcome>>>;
        const began = performance.now();
        try {
          s = await costed(id, () =>
            summaryOrPastTheLimit(
              () => env.run<[string], SummaryOutcome, typeof queueSummary>(queueSummary, 'bench'),
              transport,
              (message) => {
                overLimit = true;
                console.log(
                  `  the activity failed after ${((performance.now() - began) / 1000).toFixed(1)} s: ${message}`,
                );
              },
            ),
          );
        } finally {
          clearInterval(sampler);
        }
        peakRss = Math.max(peakRss, rss);
        idleRss = Math.min(idleRss, rssBefore);
        runs.summary.push(s.seconds);
        cpu.summary.push(s.cpu);
        summaryParts.push(s.parts);
        resultBytes = Buffer.byteLength(JSON.stringify(s.value));
        summaryText = s.value.summary;
        const e = s.value.evidence;
        if (e.messages !== n) throw new Error(`summary counted ${e.messages} messages, expected ${n}`);
        top =
          `domains: top ${e.recipientDomains.top[0]?.key}=${e.recipientDomains.top[0]?.count}, exact ${e.recipientDomains.exact}; ` +
          `${e.senders.top.length} senders listed (top ${e.senders.top[0]?.key}=${e.senders.top[0]?.count}), ` +
          `${e.deferralReasons.top.length} reasons listed`;

        if (n <= REFERENCE_UP_TO) {
          const old = await timed(async () => {
            const acc = new QueueSummaryAccumulator({ now: Math.floor(Date.now() / 1000), topK: 10 });
            const r = await transport.exec({
              argv: ['postqueue', '-j'],
              timeoutMs: 600_000,
              maxOutputBytes: 1024 * 1024,
              onStdoutLine: (line) => acc.addLine(line),
            });
            if (r.exitCode !== 0 || acc.result().messages !== n)
              throw new Error('uncoalesced listing failed');
          });
          runs.uncoalesced.push(old.seconds);
        }

        const c = await costed(id, async () => {
          const cmd = dmsCommands.queueFileCount();
          const r = await transport.exec({ argv: cmd.argv, timeoutMs: cmd.timeoutMs, maxOutputBytes: 4096 });
          return parseQueueFileCount(r.stdout);
        });
        runs.count.push(c.seconds);
        cpu.count.push(c.cpu);
        counted = c.value;
      }
      const floor = median(runs.floor);
      const row = (name: keyof typeof runs, note = ''): void =>
        console.log(
          `  ${name.padEnd(12)} ${median(runs[name]).toFixed(2).padStart(7)} s  ${(median(runs[name]) / floor).toFixed(2)}x floor` +
            `  [${runs[name].map((x) => x.toFixed(2)).join(' ')}]${note}`,
        );
      row('floor', '  (postqueue -j > /dev/null in the container)');
      if (runs.qshape.length > 0) row('qshape', '  (qshape deferred > /dev/null)');
      row(
        'summary',
        overLimit
          ? '  (queueSummary past its limit: the same listing, no limit)'
          : '  (queueSummary activity)',
      );
      if (runs.uncoalesced.length > 0)
        row('uncoalesced', '  (plain postqueue -j through docker exec into the accumulator)');
      row('count', `  (drain poll: ${counted} queue files)`);
      const summary = median(runs.summary);
      console.log(
        `  summary/floor ${(summary / floor).toFixed(2)}x (target <= 1.20), summary/qshape ${(summary / median(runs.qshape)).toFixed(2)}x (target < 1), ` +
          `drain poll/summary ${((100 * median(runs.count)) / summary).toFixed(1)} % (target <= 10 %)`,
      );
      const paired = runs.summary.map((x, i) => x / (runs.floor[i] ?? NaN));
      console.log(
        `  per round (summary and floor seconds apart, so under the same load): summary/floor ` +
          `[${paired.map((x) => x.toFixed(2)).join(' ')}], median ${median(paired).toFixed(2)}x; ` +
          `best of each: ${(Math.min(...runs.summary) / Math.min(...runs.floor)).toFixed(2)}x` +
          (overLimit ? '; the summary ran past the catalogue limit (figures without it)' : ''),
      );
      const cpuFloor = median(cpu.floor);
      const cpuSummary = median(cpu.summary);
      console.log(
        `  CPU (container + this process + dockerd): floor ${cpuFloor.toFixed(2)} s, summary ${cpuSummary.toFixed(2)} s ` +
          `(${(cpuSummary / cpuFloor).toFixed(2)}x), drain poll ${median(cpu.count).toFixed(2)} s (${((100 * median(cpu.count)) / cpuSummary).toFixed(1)} %)`,
      );
      const part = (i: number): string => median(summaryParts.map((p) => p[i] ?? NaN)).toFixed(2);
      console.log(
        `  summary CPU by part: container ${part(0)} s, this process (parsing) ${part(1)} s, dockerd ${part(2)} s`,
      );
      for (const runtime of CHILD_RUNTIMES) {
        const child = await summaryInChild(runtime);
        if (child.messages !== n)
          throw new Error(`the child's summary counted ${child.messages}, expected ${n}`);
        console.log(
          `  summary alone in a child process (${runtime === 'dist' ? 'dist/ under node, as installed' : 'src/ under tsx, as a checkout'}): ` +
            `peak RSS ${child.peakRssMb.toFixed(0)} MB (target < 150), ` +
            `${child.rssBeforeMb.toFixed(0)} MB before the activity, so +${(child.peakRssMb - child.rssBeforeMb).toFixed(0)} MB for it; ${child.seconds.toFixed(2)} s`,
        );
      }
      console.log(
        `  bench process peak RSS during the summary ${(peakRss / 2 ** 20).toFixed(0)} MB (target < 150; ${(idleRss / 2 ** 20).toFixed(0)} MB before it); result ${resultBytes} B of JSON (limit 65536)`,
      );
      console.log(`  ${summaryText}; ${top}`);
      perHundredK.push(
        `${n.toLocaleString('en')}: summary ${((summary * 100_000) / n).toFixed(2)} s, floor ${((floor * 100_000) / n).toFixed(2)} s per 100k`,
      );
    }
    console.log(`\nlinearity: ${perHundredK.join('; ')}`);
  } finally {
    await transport.close();
    await closeAllHosts();
    if (process.env.BENCH_KEEP !== '1') await removeContainer();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0), // nothing may keep a finished bench alive (an engine socket, a timer)
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
