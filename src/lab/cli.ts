/**
 * `npm run lab -- up | down | status | faults | fault <name> [args] | heal <name|all>`
 * The local mail lab, driven through the Docker engine API (dockerode). See docs/lab.md.
 */
import { Command, Option } from 'commander';
import { DMS_IMAGE, ensureDmsImage } from './dms-image.js';
import { FAULTS, findFault, healFault, injectFault } from './faults.js';
import { ensureDockerEngine } from '../preflight/docker.js';
import { labContext, labDown, labStatus, labUp, type LabContext } from './lab.js';
import { parsePorts } from './settings.js';

const program = new Command()
  .name('lab')
  .description(
    'Local mail lab: DMS-like mail server, SMTP relay host (sshd + AUTH relay on 2526), destination',
  );

/** The lab context once the Docker engine answers (or one message saying why it does not). */
async function readyContext(): Promise<LabContext> {
  const ctx = labContext();
  await ensureDockerEngine(ctx.docker, { log: ctx.log });
  return ctx;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

program
  .command('up')
  .description('build images (cached), create or reuse the containers, write .lab/target.yaml')
  .option('--port <name=port>', 'host port override, e.g. submission=20587 (repeatable)', collect, [])
  .addOption(
    new Option(
      '--dms-image <image>',
      "use this docker-mailserver image for the mail server ('' = lab image)",
    ),
  )
  .action(async (opts: { port: string[]; dmsImage?: string }) => {
    const ports = parsePorts([
      ...(process.env.MRB_LAB_PORTS ? [process.env.MRB_LAB_PORTS] : []),
      ...opts.port,
    ]);
    const ctx = labContext();
    const r = await labUp(ctx, {
      ports,
      ...(opts.dmsImage !== undefined ? { dmsImage: opts.dmsImage } : {}),
    });
    const p = r.settings.ports;
    console.log(`lab is up (${r.seconds.total.toFixed(1)} s; images built: ${r.built.join(', ') || 'none'})`);
    console.log(`  config:      ${r.config}`);
    console.log(
      `  submission:  127.0.0.1:${p.submission} (STARTTLS), 127.0.0.1:${p.submissions} (TLS), smtp 127.0.0.1:${p.smtp}`,
    );
    console.log(
      `  imaps:       mail 127.0.0.1:${p.imaps}, dest 127.0.0.1:${p.destImaps}; relay ssh 127.0.0.1:${p.relaySsh}; dns 127.0.0.1:${p.dns} (udp+tcp)`,
    );
  });

program
  .command('build-dms')
  .description(`build ${DMS_IMAGE} from the vendored release archive (cached; see docs/lab.md)`)
  .option('--force', 'run the build even when the image matches the archive and the patches')
  .action(async (opts: { force?: boolean }) => {
    const ctx = labContext();
    const r = await ensureDmsImage(ctx.docker, ctx.log, { force: opts.force === true });
    const size = (await ctx.docker.getImage(r.image).inspect()).Size;
    console.log(
      `${r.image} ${r.built ? 'built' : 'up to date'} in ${r.seconds.total.toFixed(1)} s ` +
        `(base ${r.seconds.base.toFixed(1)} s, prepare ${r.seconds.prepare.toFixed(1)} s, build ${r.seconds.build.toFixed(1)} s); ` +
        `${Math.round(size / 1e6)} MB`,
    );
  });

program
  .command('down')
  .description('remove the lab containers and network (images and .lab/ are kept)')
  .action(async () => {
    const r = await labDown(await readyContext());
    console.log(
      `lab is down (removed ${r.removedContainers.length} containers${r.removedNetwork ? ' and the network' : ''})`,
    );
  });

program
  .command('status')
  .description('containers, health and active faults')
  .option('--json', 'machine-readable output')
  .action(async (opts: { json?: boolean }) => {
    const s = await labStatus(await readyContext());
    if (opts.json) {
      console.log(JSON.stringify(s, null, 2));
      return;
    }
    console.log(
      `network mrb-lab: ${s.network ? 'present' : 'absent'}${s.settings.dmsImage ? `; mail server image ${s.settings.dmsImage}` : ''}`,
    );
    for (const c of s.containers) {
      const health =
        c.state !== 'running'
          ? '-'
          : c.problems.length === 0
            ? 'healthy'
            : `UNHEALTHY: ${c.problems.join('; ')}`;
      console.log(`${c.name.padEnd(20)} ${c.state.padEnd(9)} ${health}`);
      if (c.ports.length) console.log(`${''.padEnd(20)} ports ${c.ports.join(', ')}`);
      for (const f of c.faults)
        console.log(`${''.padEnd(20)} fault ${f.name}${f.detail ? `: ${f.detail}` : ''}`);
    }
    const active = s.containers.flatMap((c) => c.faults.map((f) => f.name));
    console.log(`active faults: ${active.length ? active.join(', ') : 'none'}`);
    if (!s.containers.every((c) => c.state === 'running' && c.problems.length === 0)) process.exitCode = 1;
  });

program
  .command('faults')
  .description('list the faults that can be injected')
  .action(() => {
    for (const f of FAULTS)
      console.log(`${(f.name + (f.usage ? ` ${f.usage}` : '')).padEnd(24)} ${f.summary}`);
  });

program
  .command('fault')
  .description('inject a fault (see `faults`)')
  .argument('<name>', 'fault name')
  .argument('[args...]', 'fault arguments (queue-flood N)')
  .action(async (name: string, args: string[]) => {
    const fault = findFault(name);
    const r = await injectFault(await readyContext(), fault, args);
    console.log(`fault ${fault.name} injected: ${r}`);
  });

program
  .command('heal')
  .description('heal a fault (or all)')
  .argument('<name>', "fault name, or 'all'")
  .action(async (name: string) => {
    const ctx = await readyContext();
    const targets = name === 'all' ? FAULTS : [findFault(name)];
    for (const fault of targets) console.log(`fault ${fault.name}: ${await healFault(ctx, fault)}`);
  });

program.parseAsync().catch((err: unknown) => {
  console.error(`lab: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
