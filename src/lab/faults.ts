/**
 * The lab's faults: each one breaks the lab the way production breaks, so the runbooks can be exercised
 * against real symptoms in Postfix's log and queue. Every fault is injected and healed through the Docker
 * engine (exec in a lab container), and records itself in /var/lib/lab/faults/<name> inside the container
 * it changed, which is what `lab status` lists. The scripts below are fixed text; arguments reach them
 * only as validated environment values, never spliced into the script.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KIND_LABEL } from './containers.js';
import { dexec, inspectContainer, pollUntil } from './docker.js';
import type { LabContext } from './lab.js';
import { labNetwork } from './lab.js';
import { MATERIAL_FILES, writeSecret } from './material.js';
import { CONTAINERS, NAMES, type Role } from './settings.js';

export interface Fault {
  name: string;
  /** Arguments, for `lab faults` (e.g. "N"). */
  usage?: string;
  summary: string;
  /** The container the fault changes (and where its marker lives). */
  role: Role;
  inject(ctx: LabContext, args: readonly string[]): Promise<string>;
  /** Restores health; safe to call when the fault is not active. */
  heal(ctx: LabContext): Promise<string>;
}

const MARKERS = '/var/lib/lab/faults';

/** Runs a fixed bash script in a lab container; values come in through the environment. */
async function sh(
  ctx: LabContext,
  role: Role,
  script: string,
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<string> {
  const r = await dexec(ctx.docker, CONTAINERS[role], ['bash', '-euo', 'pipefail', '-c', script], {
    timeoutMs,
    env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
  });
  if (r.exitCode !== 0) {
    throw new Error(
      `${CONTAINERS[role]}: ${(r.stderr || r.stdout).trim().slice(-1500) || `exit ${r.exitCode}`}`,
    );
  }
  return r.stdout.trim();
}

async function mark(ctx: LabContext, role: Role, name: string, detail: string): Promise<void> {
  await sh(ctx, role, `mkdir -p ${MARKERS} && printf '%s\\n' "$DETAIL" > "${MARKERS}/$NAME"`, {
    NAME: name,
    DETAIL: detail,
  });
}

async function unmark(ctx: LabContext, role: Role, name: string): Promise<void> {
  await sh(ctx, role, `rm -f "${MARKERS}/$NAME"`, { NAME: name });
}

async function marker(ctx: LabContext, role: Role, name: string): Promise<string | undefined> {
  const out = await sh(ctx, role, `cat "${MARKERS}/$NAME" 2>/dev/null || true`, { NAME: name });
  return out === '' ? undefined : out;
}

/** Is a TCP port listening inside a container (ss)? */
async function listening(ctx: LabContext, role: Role, port: number): Promise<boolean> {
  const out = await sh(ctx, role, 'ss -Htln');
  return new RegExp(`[:.]${port}\\s`).test(`${out}\n`);
}

/** Waits until a port inside a container answers with an SMTP greeting (bounded). */
async function waitGreeting(ctx: LabContext, role: Role, port: number, timeoutMs = 60_000): Promise<void> {
  await pollUntil(`${CONTAINERS[role]} port ${port} to greet`, timeoutMs, async () => {
    const out = await sh(
      ctx,
      role,
      `timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$PORT"' && IFS= read -r l <&3 && echo "$l" && printf "QUIT\\r\\n" >&3 && read -r _ <&3' || true`,
      { PORT: String(port) },
    );
    return out.startsWith('220');
  });
}

/** Which mail server the lab runs: the real docker-mailserver (`dms`) or the lab's DMS-like image. */
async function mailserverKind(ctx: LabContext): Promise<'lab' | 'dms'> {
  const info = await inspectContainer(ctx.docker, CONTAINERS.mailserver);
  return info?.Config.Labels?.[KIND_LABEL] === 'dms' ? 'dms' : 'lab';
}

/**
 * The start of a script that runs docker-mailserver's own setup code in its running container: the
 * container's settings as its start script saved them (/etc/dms-settings), its helpers and the setup
 * functions of Postfix and networking. Their code expects neither -e nor -u.
 */
const DMS_SETUP = [
  'set +eu',
  'source /etc/dms-settings',
  'source /usr/local/bin/helpers/index.sh',
  'source /usr/local/bin/setup.d/networking.sh',
  'source /usr/local/bin/setup.d/postfix.sh',
].join('\n');

async function reloadPostfix(ctx: LabContext): Promise<void> {
  await sh(ctx, 'mailserver', 'postfix reload >/dev/null 2>&1');
}

/**
 * A supervisord program stopped, so its port refuses connections; heal starts it and waits for the SMTP
 * greeting on that port.
 */
function programDown(
  fault: Pick<Fault, 'name' | 'summary' | 'role'> & { program: string; port: number },
): Fault {
  const { name, role, program, port } = fault;
  return {
    name,
    summary: fault.summary,
    role,
    async inject(ctx) {
      await sh(ctx, role, 'supervisorctl stop "$PROGRAM" >/dev/null', { PROGRAM: program });
      await pollUntil(
        `${program} port ${port} to close`,
        30_000,
        async () => !(await listening(ctx, role, port)),
      );
      await mark(ctx, role, name, `${program} stopped`);
      return `${program} stopped; port ${port} refuses connections`;
    },
    async heal(ctx) {
      await sh(ctx, role, 'supervisorctl start "$PROGRAM" >/dev/null || true', { PROGRAM: program });
      await waitGreeting(ctx, role, port);
      await unmark(ctx, role, name);
      return `${program} running; port ${port} answers`;
    },
  };
}

const relayDown = programDown({
  name: 'relay-down',
  summary: 'relay watchdog service stopped (supervisorctl stop smtp-relay): port 2526 refuses connections',
  role: 'relay',
  program: 'smtp-relay',
  port: NAMES.relayPort,
});

const relayHung: Fault = {
  name: 'relay-hung',
  summary: 'relay accepts TCP on 2526 but never answers (its Postfix process group is frozen with SIGSTOP)',
  role: 'relay',
  async inject(ctx) {
    const pid = await sh(
      ctx,
      'relay',
      'pid=$(tr -d " \\n" < /var/spool/postfix/pid/master.pid); kill -STOP -- "-$pid"; echo "$pid"',
    );
    await mark(ctx, 'relay', 'relay-hung', `postfix master process group ${pid} stopped (SIGSTOP)`);
    return `relay Postfix (process group ${pid}) frozen: connections to 2526 are accepted and never greeted`;
  },
  async heal(ctx) {
    await sh(
      ctx,
      'relay',
      'pid=$(tr -d " \\n" < /var/spool/postfix/pid/master.pid 2>/dev/null || true); [ -z "$pid" ] || kill -CONT -- "-$pid" 2>/dev/null || true',
    );
    await waitGreeting(ctx, 'relay', NAMES.relayPort);
    await unmark(ctx, 'relay', 'relay-hung');
    return 'relay Postfix resumed; port 2526 answers';
  },
};

const SASL_TABLES = ['/etc/postfix/sasl_passwd', '/tmp/docker-mailserver/postfix-sasl-password.cf'];

/**
 * A password rotation the mail server has not caught up with: the relay's password for the mail server's
 * SASL user changes, and so does the lab's secret store (relay.sasl.password in the target config), but the
 * mail server still sends the old one. Heal puts everything back, the mail server's tables included (a
 * runbook may have rewritten them). Each rotated password is also kept in .lab/secrets/ so the histories
 * test scans for it.
 */
const relayAuth: Fault = {
  name: 'relay-auth',
  summary:
    "relay rejects the mail server's SASL credentials (its password was rotated; the mail server still sends the old one)",
  role: 'relay',
  async inject(ctx) {
    if (await marker(ctx, 'relay', 'relay-auth')) return 'already active';
    const rotated = randomBytes(18).toString('base64url');
    await sh(
      ctx,
      'mailserver',
      SASL_TABLES.map((f, i) => `[ -f ${f} ] && cp -p ${f} /var/lib/lab/sasl-table-${i}.orig || true`).join(
        '\n',
      ),
    );
    await sh(
      ctx,
      'relay',
      [
        'cp -p /etc/dovecot/relay-users /var/lib/lab/relay-users.orig',
        'hash=$(doveadm pw -s SSHA512 -p "$ROTATED")',
        'awk -F: -v h="$hash" -v OFS=: \'{ $2 = h; print }\' /var/lib/lab/relay-users.orig > /etc/dovecot/relay-users.new',
        'chown root:dovecot /etc/dovecot/relay-users.new && chmod 0640 /etc/dovecot/relay-users.new',
        'mv /etc/dovecot/relay-users.new /etc/dovecot/relay-users',
      ].join('\n'),
      { ROTATED: rotated },
    );
    await writeSecret(join(ctx.paths.dir, MATERIAL_FILES.relaySaslVault), `${rotated}\n`);
    await writeSecret(
      join(ctx.paths.dir, `${MATERIAL_FILES.relaySaslVault}.rotated-${Date.now()}`),
      `${rotated}\n`,
    );
    await mark(
      ctx,
      'relay',
      'relay-auth',
      `password of SASL user ${NAMES.relaySaslUser} rotated on the relay and in the secret store`,
    );
    return `relay now rejects ${NAMES.relaySaslUser}'s old password (535 5.7.8); the secret store has the new one`;
  },
  async heal(ctx) {
    await sh(
      ctx,
      'relay',
      '[ ! -f /var/lib/lab/relay-users.orig ] || mv /var/lib/lab/relay-users.orig /etc/dovecot/relay-users',
    );
    await sh(
      ctx,
      'mailserver',
      [
        'restored=0',
        ...SASL_TABLES.map(
          (f, i) =>
            `if [ -f /var/lib/lab/sasl-table-${i}.orig ]; then mv /var/lib/lab/sasl-table-${i}.orig ${f}; restored=1; fi`,
        ),
        '[ "$restored" = 0 ] || postfix reload >/dev/null 2>&1',
      ].join('\n'),
    );
    const original = await readFile(join(ctx.paths.dir, MATERIAL_FILES.relaySaslPassword), 'utf8');
    await writeSecret(join(ctx.paths.dir, MATERIAL_FILES.relaySaslVault), original);
    await unmark(ctx, 'relay', 'relay-auth');
    return 'relay credentials restored (relay, mail server tables, secret store)';
  },
};

const amavisDown = programDown({
  name: 'amavis-down',
  summary: 'amavis stopped (supervisorctl stop amavis): mail deferred, 127.0.0.1:10024 Connection refused',
  role: 'mailserver',
  program: 'amavis',
  port: 10024,
});

const AMAVIS_HOLDERS = '/var/lib/lab/amavis-hung.pids';

/**
 * amavis hung: every amavis child is taken by a client that never sends a command, so Postfix's
 * connection to 127.0.0.1:10024 is accepted (the port listens, supervisord says RUNNING) but never greeted,
 * and mail is deferred with dsn=4.4.2 "timed out while receiving the initial server greeting" (after
 * smtp_helo_timeout). The holders connect once: a restart of amavis drops them and cures it, as it cures
 * a real hang; amavis itself drops an idle session after its SMTP timeout (8 min by default).
 */
const amavisHung: Fault = {
  name: 'amavis-hung',
  summary:
    'amavis accepts on 127.0.0.1:10024 but never greets (all its children held by idle sessions): mail deferred with dsn=4.4.2 ... timed out',
  role: 'mailserver',
  async inject(ctx) {
    if (await marker(ctx, 'mailserver', 'amavis-hung')) return 'already active';
    const held = await sh(
      ctx,
      'mailserver',
      [
        // amavis's $max_servers (2 unless configured), plus one
        "max=$(grep -hoE '^[[:space:]]*\\$max_servers[[:space:]]*=[[:space:]]*[0-9]+' /etc/amavis/conf.d/* 2>/dev/null | tail -1 | grep -oE '[0-9]+$' || true)",
        'n=$(( ${max:-2} + 1 ))',
        ': > ' + AMAVIS_HOLDERS,
        'for _ in $(seq 1 "$n"); do',
        "  setsid bash -c 'exec 3<>/dev/tcp/127.0.0.1/10024; exec sleep 3600' </dev/null >/dev/null 2>&1 &",
        '  echo $! >> ' + AMAVIS_HOLDERS,
        'done',
        'echo "$n"',
      ].join('\n'),
    );
    // Hung when a fresh connection gets no greeting within 3 s (bounded).
    await pollUntil('amavis to stop greeting on 10024', 30_000, async () => {
      const out = await sh(
        ctx,
        'mailserver',
        `timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/10024 && IFS= read -r l <&3 && echo "$l"' || true`,
      );
      return !out.startsWith('220');
    });
    await mark(ctx, 'mailserver', 'amavis-hung', `${held} idle sessions hold every amavis child`);
    return `amavis hung: ${held} idle sessions hold its children; 127.0.0.1:10024 accepts but never greets`;
  },
  async heal(ctx) {
    await sh(
      ctx,
      'mailserver',
      `[ ! -f ${AMAVIS_HOLDERS} ] || { while read -r pid; do kill "$pid" 2>/dev/null || true; done < ${AMAVIS_HOLDERS}; rm -f ${AMAVIS_HOLDERS}; }`,
    );
    await waitGreeting(ctx, 'mailserver', 10024);
    await unmark(ctx, 'mailserver', 'amavis-hung');
    return 'idle sessions closed; amavis greets on 10024';
  },
};

const sshKeyPerms: Fault = {
  name: 'ssh-key-perms',
  summary: "the mail server's relay SSH key /home/cloudrelay/.ssh/id_rsa made 0644 (ssh refuses to use it)",
  role: 'mailserver',
  async inject(ctx) {
    await sh(ctx, 'mailserver', 'chmod 0644 /home/cloudrelay/.ssh/id_rsa');
    await mark(ctx, 'mailserver', 'ssh-key-perms', '/home/cloudrelay/.ssh/id_rsa is 0644');
    return '/home/cloudrelay/.ssh/id_rsa is now 0644';
  },
  async heal(ctx) {
    await sh(
      ctx,
      'mailserver',
      'chown root:root /home/cloudrelay/.ssh/id_rsa && chmod 0600 /home/cloudrelay/.ssh/id_rsa',
    );
    await unmark(ctx, 'mailserver', 'ssh-key-perms');
    return '/home/cloudrelay/.ssh/id_rsa is 0600 again';
  },
};

const MAX_FLOOD = 100_000;

const queueFlood: Fault = {
  name: 'queue-flood',
  usage: 'N',
  summary: `N deferred messages (1..${MAX_FLOOD}, default 1000) from ${NAMES.floodSender} in the mail queue, made in seconds`,
  role: 'mailserver',
  async inject(ctx, args) {
    const raw = args[0] ?? '1000';
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_FLOOD) {
      throw new Error(`queue-flood N: N must be a whole number from 1 to ${MAX_FLOOD}, not '${raw}'`);
    }
    const out = await sh(ctx, 'mailserver', 'lab-queue-flood create "$N" 2>/dev/null', { N: raw }, 600_000);
    const count = await sh(ctx, 'mailserver', 'lab-queue-flood count', {}, 120_000);
    await mark(ctx, 'mailserver', 'queue-flood', `${count} flood messages queued (${out})`);
    return out;
  },
  async heal(ctx) {
    const out = await sh(ctx, 'mailserver', 'lab-queue-flood remove', {}, 600_000);
    await unmark(ctx, 'mailserver', 'queue-flood');
    return out;
  },
};

/** DMS's override file: appended to main.cf by DMS at start, after its relay setup. */
const DMS_POSTFIX_MAIN = '/tmp/docker-mailserver/postfix-main.cf';
const DMS_POSTFIX_MAIN_SAVED = '/var/lib/lab/postfix-main.cf.orig';

const relaymapIneffective: Fault = {
  name: 'relaymap-ineffective',
  summary:
    'relayhost_map still present but sender_dependent_relayhost_maps unset: lab.test mail no longer uses the relay ' +
    "(docker-mailserver: by DMS's own override step, from `sender_dependent_relayhost_maps =` in postfix-main.cf)",
  role: 'mailserver',
  async inject(ctx) {
    const current = await sh(ctx, 'mailserver', 'postconf -h sender_dependent_relayhost_maps');
    if (!current) return 'already active (sender_dependent_relayhost_maps is empty)';
    await mark(ctx, 'mailserver', 'relaymap-ineffective', `sender_dependent_relayhost_maps was: ${current}`);
    if ((await mailserverKind(ctx)) === 'dms') {
      // What a user's override file does at DMS's next start: its relay setup sets the map, then the
      // override (appended after it) empties it again. DMS's own step applies it now, without a restart.
      await sh(
        ctx,
        'mailserver',
        [
          `if [ -f ${DMS_POSTFIX_MAIN} ]; then cp -p ${DMS_POSTFIX_MAIN} ${DMS_POSTFIX_MAIN_SAVED}; else : > ${DMS_POSTFIX_MAIN_SAVED}.absent; fi`,
          `printf 'sender_dependent_relayhost_maps =\\n' >> ${DMS_POSTFIX_MAIN}`,
          DMS_SETUP,
          '__postfix__setup_override_configuration',
          '[ -z "$(postconf -h sender_dependent_relayhost_maps)" ] || { echo "DMS override did not apply" >&2; exit 1; }',
        ].join('\n'),
      );
      await reloadPostfix(ctx);
      return `sender_dependent_relayhost_maps emptied by ${DMS_POSTFIX_MAIN} (DMS override step; relayhost_map left in place); Postfix reloaded`;
    }
    await sh(ctx, 'mailserver', 'postconf -X sender_dependent_relayhost_maps');
    await reloadPostfix(ctx);
    return 'sender_dependent_relayhost_maps removed (relayhost_map left in place); Postfix reloaded';
  },
  async heal(ctx) {
    if ((await mailserverKind(ctx)) === 'dms') {
      // The override file as it was, then DMS's own relay setup and override step, as at its start.
      await sh(
        ctx,
        'mailserver',
        [
          `if [ -f ${DMS_POSTFIX_MAIN_SAVED} ]; then mv ${DMS_POSTFIX_MAIN_SAVED} ${DMS_POSTFIX_MAIN}; fi`,
          `if [ -f ${DMS_POSTFIX_MAIN_SAVED}.absent ]; then rm -f ${DMS_POSTFIX_MAIN} ${DMS_POSTFIX_MAIN_SAVED}.absent; fi`,
          DMS_SETUP,
          '_process_relayhost_configs',
          '__postfix__setup_override_configuration',
        ].join('\n'),
      );
    } else {
      await sh(
        ctx,
        'mailserver',
        '[ -n "$(postconf -h sender_dependent_relayhost_maps)" ] || postconf -e "sender_dependent_relayhost_maps = texthash:/etc/postfix/relayhost_map"',
      );
    }
    await reloadPostfix(ctx);
    await unmark(ctx, 'mailserver', 'relaymap-ineffective');
    return 'sender_dependent_relayhost_maps = texthash:/etc/postfix/relayhost_map; Postfix reloaded';
  },
};

const DMS_RELAYMAP = '/tmp/docker-mailserver/postfix-relaymap.cf';
const DMS_RELAYMAP_SAVED = '/var/lib/lab/postfix-relaymap.cf.orig';
/** Where DMS's change detector records the hashes of the config files it has applied. */
const DMS_APPLIED_CHECKSUMS = '/tmp/docker-mailserver-config-chksum';

/** Does relayhost_map route the lab's mail domain somewhere (`@lab.test <nexthop>`)? */
function routesMailDomain(map: string): boolean {
  return new RegExp(`^@${NAMES.mailDomain.replace(/\./g, '\\.')}\\s+\\S`, 'm').test(map);
}

/**
 * Waits (bounded) until DMS's change detector has applied `file` as it is now: the detector moves its
 * checksum list into place only after it has rebuilt the maps and reloaded Postfix, so a listed hash (or,
 * for a deleted file, no line) means that whole pass is over.
 */
async function waitDmsApplied(ctx: LabContext, file: string, timeoutMs: number): Promise<void> {
  await pollUntil(`DMS's change detector to apply ${file}`, timeoutMs, async () => {
    const out = await sh(
      ctx,
      'mailserver',
      'if [ -f "$FILE" ]; then grep -qxF "$(sha512sum -- "$FILE")" "$SUMS"; else ! grep -qF " $FILE" "$SUMS"; fi && echo applied || true',
      { FILE: file, SUMS: DMS_APPLIED_CHECKSUMS },
    );
    return out === 'applied';
  });
}

/**
 * docker-mailserver only: `setup relay exclude-domain lab.test`, DMS's own opt-out from RELAY_HOST. Its
 * change detector rebuilds relayhost_map without @lab.test, so lab.test mail goes out directly (relayhost
 * is empty with RELAY_HOST) and is deferred: the map is there and referenced, but no longer routes us.
 */
const relayExcluded: Fault = {
  name: 'relay-excluded',
  summary:
    'docker-mailserver only: `setup relay exclude-domain lab.test`; DMS drops @lab.test from relayhost_map, lab.test mail no longer uses the relay',
  role: 'mailserver',
  async inject(ctx) {
    if ((await mailserverKind(ctx)) !== 'dms') {
      throw new Error(
        "relay-excluded needs the real docker-mailserver (MRB_LAB_MAILSERVER=dms npm run lab -- up): it uses DMS's `setup relay exclude-domain`",
      );
    }
    if (await marker(ctx, 'mailserver', 'relay-excluded')) return 'already active';
    await sh(
      ctx,
      'mailserver',
      `if [ -f ${DMS_RELAYMAP} ]; then cp -p ${DMS_RELAYMAP} ${DMS_RELAYMAP_SAVED}; else : > ${DMS_RELAYMAP_SAVED}.absent; fi`,
    );
    await mark(ctx, 'mailserver', 'relay-excluded', `setup relay exclude-domain ${NAMES.mailDomain}`);
    await sh(ctx, 'mailserver', 'setup relay exclude-domain "$DOMAIN"', { DOMAIN: NAMES.mailDomain });
    // DMS's change detector (polling every DMS_CONFIG_POLL s) rebuilds the map and reloads Postfix. The map
    // is truncated first, so "@lab.test gone" alone is seen mid-rebuild: wait for the whole pass.
    await waitDmsApplied(ctx, DMS_RELAYMAP, 120_000);
    const map = await sh(ctx, 'mailserver', 'cat /etc/postfix/relayhost_map 2>/dev/null || true');
    if (routesMailDomain(map)) {
      throw new Error(
        `relay-excluded: DMS applied the opt-out but relayhost_map still routes @${NAMES.mailDomain}`,
      );
    }
    return `setup relay exclude-domain ${NAMES.mailDomain}: DMS rebuilt relayhost_map without @${NAMES.mailDomain}`;
  },
  async heal(ctx) {
    if ((await mailserverKind(ctx)) !== 'dms') return 'nothing to heal (not docker-mailserver)';
    // The opt-out file as it was; DMS's change detector then rebuilds relayhost_map and reloads Postfix.
    // Heal returns only after that pass: a reload after the caller's flush replaces the queue manager that
    // took the flushed mail, which then waits for the next queue run (seen: the relay-excluded CI timeout).
    await sh(
      ctx,
      'mailserver',
      [
        `if [ -f ${DMS_RELAYMAP_SAVED} ]; then mv ${DMS_RELAYMAP_SAVED} ${DMS_RELAYMAP}; fi`,
        `if [ -f ${DMS_RELAYMAP_SAVED}.absent ]; then rm -f ${DMS_RELAYMAP} ${DMS_RELAYMAP_SAVED}.absent; fi`,
      ].join('\n'),
    );
    let how = "DMS's change detector applied it";
    try {
      await waitDmsApplied(ctx, DMS_RELAYMAP, 60_000);
    } catch {
      how = "DMS's change detector did not apply it within 60 s";
    }
    let map = await sh(ctx, 'mailserver', 'cat /etc/postfix/relayhost_map 2>/dev/null || true');
    if (!routesMailDomain(map)) {
      // The detector regenerates the relay config only for files it sees a new hash of, never for a deleted
      // one (the lab starts without the opt-out file): run what it would run, then reload, last.
      await sh(
        ctx,
        'mailserver',
        [DMS_SETUP, '_process_relayhost_configs', '__postfix__setup_override_configuration'].join('\n'),
      );
      await reloadPostfix(ctx);
      how += '; its relay setup run here and Postfix reloaded';
      map = await sh(ctx, 'mailserver', 'cat /etc/postfix/relayhost_map 2>/dev/null || true');
    }
    if (!routesMailDomain(map)) {
      throw new Error(
        `relay-excluded heal: relayhost_map still does not route @${NAMES.mailDomain}:\n${map}`,
      );
    }
    await unmark(ctx, 'mailserver', 'relay-excluded');
    return `relayhost_map routes @${NAMES.mailDomain} through the relay again (${how})`;
  },
};

type PermitDocker = 'network' | 'host';

/**
 * The range DMS's PERMIT_DOCKER adds to mynetworks: `network` 172.16.0.0/12, `host` the /16 of the
 * container's address. Connections to published ports come from the lab network's gateway, so when the
 * lab subnet lies outside 172.16.0.0/12, `network` would not show the open relay: `host` is used then.
 */
/** Does a subnet lie inside 172.16.0.0/12, the range DMS's PERMIT_DOCKER=network trusts? */
export function inPermitDockerNetworkRange(subnet: string): boolean {
  const [a, b] = subnet.split('.').map(Number);
  return a === 172 && b !== undefined && b >= 16 && b <= 31;
}

async function permitDockerRange(
  ctx: LabContext,
  wanted: PermitDocker | undefined,
): Promise<{ mode: PermitDocker; range: string }> {
  const net = await labNetwork(ctx);
  const [a, b] = (net?.subnet ?? '172.16.0.0/12').split('.').map(Number);
  const mode = wanted ?? (inPermitDockerNetworkRange(net?.subnet ?? '172.16.0.0/12') ? 'network' : 'host');
  return { mode, range: mode === 'network' ? '172.16.0.0/12' : `${a}.${b}.0.0/16` };
}

function permitDockerArg(args: readonly string[]): PermitDocker | undefined {
  const raw = args[0];
  if (raw === undefined) return undefined;
  if (raw === 'network' || raw === 'host') return raw;
  throw new Error(`open-relay [network|host]: PERMIT_DOCKER mode must be network or host, not '${raw}'`);
}

const openRelay: Fault = {
  name: 'open-relay',
  usage: '[network|host]',
  summary:
    "mynetworks trusts a whole private range, as DMS's PERMIT_DOCKER=network (172.16.0.0/12) or host (the container's /16) does: " +
    'unauthenticated relaying on port 25 (docker-mailserver: applied by its own PERMIT_DOCKER setup step)',
  role: 'mailserver',
  async inject(ctx, args) {
    const wanted = permitDockerArg(args);
    if (await marker(ctx, 'mailserver', 'open-relay')) return 'already active';
    const before = await sh(ctx, 'mailserver', 'postconf -h mynetworks');
    const { mode, range } = await permitDockerRange(ctx, wanted);
    await sh(ctx, 'mailserver', 'echo "$BEFORE" > /var/lib/lab/mynetworks.orig', { BEFORE: before });
    if ((await mailserverKind(ctx)) === 'dms') {
      // DMS's own step, as its start script runs it with PERMIT_DOCKER=<mode>.
      await sh(
        ctx,
        'mailserver',
        [
          DMS_SETUP,
          'PERMIT_DOCKER="$MODE"',
          // its status is that of its last test (an OpenDKIM/OpenDMARC switch), not of the change
          '_setup_docker_permit || true',
          'postconf -h mynetworks | grep -qF -- "$RANGE" || { echo "DMS did not add $RANGE to mynetworks" >&2; exit 1; }',
        ].join('\n'),
        {
          MODE: mode,
          RANGE: range,
        },
      );
    } else {
      await sh(ctx, 'mailserver', 'postconf -e "mynetworks = 127.0.0.0/8 $RANGE"', { RANGE: range });
    }
    await reloadPostfix(ctx);
    const now = await sh(ctx, 'mailserver', 'postconf -h mynetworks');
    await mark(
      ctx,
      'mailserver',
      'open-relay',
      `PERMIT_DOCKER=${mode}: mynetworks = ${now} (was: ${before})`,
    );
    return `PERMIT_DOCKER=${mode}: mynetworks = ${now}; Postfix reloaded`;
  },
  async heal(ctx) {
    await sh(
      ctx,
      'mailserver',
      // Only what the inject saved: `heal all` heals faults that were never injected, and DMS's own value is
      // empty (PERMIT_DOCKER=none), not the lab image's 127.0.0.0/8.
      'if [ -f /var/lib/lab/mynetworks.orig ]; then postconf -e "mynetworks = $(cat /var/lib/lab/mynetworks.orig)"; rm -f /var/lib/lab/mynetworks.orig; fi',
    );
    await reloadPostfix(ctx);
    await unmark(ctx, 'mailserver', 'open-relay');
    return 'mynetworks restored; Postfix reloaded';
  },
};

export const FAULTS: readonly Fault[] = [
  relayDown,
  relayHung,
  relayAuth,
  amavisDown,
  amavisHung,
  sshKeyPerms,
  queueFlood,
  relaymapIneffective,
  relayExcluded,
  openRelay,
];

export function findFault(name: string): Fault {
  const fault = FAULTS.find((f) => f.name === name);
  if (!fault) throw new Error(`unknown fault '${name}'; faults: ${FAULTS.map((f) => f.name).join(', ')}`);
  return fault;
}

export async function injectFault(
  ctx: LabContext,
  fault: Fault,
  args: readonly string[] = [],
): Promise<string> {
  return fault.inject(ctx, args);
}

export async function healFault(ctx: LabContext, fault: Fault): Promise<string> {
  return fault.heal(ctx);
}
