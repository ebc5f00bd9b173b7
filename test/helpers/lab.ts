/**
 * Shared helpers for the lab integration tests. `ensureLab()` runs `lab up` (idempotent: a running, unchanged
 * lab is reused in about a second), so every test file can call it and the lab stays up between files.
 * Everything talks to 127.0.0.1 (published lab ports) or to the lab containers through the Docker engine.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll } from 'vitest';
import { dexec, pollUntil } from '../../src/lab/docker.js';
import { labContext, labUp, type LabContext, type UpResult } from '../../src/lab/lab.js';
import { MATERIAL_FILES } from '../../src/lab/material.js';
import { CONTAINERS, NAMES, type LabPorts, type Role } from '../../src/lab/settings.js';
import { smtpTransport } from '../../src/mail/smtp-transport.js';
import { queueIdFromResponse } from '../../src/mail/submission.js';

export interface Lab {
  ctx: LabContext;
  up: UpResult;
  ports: LabPorts;
  ca: string;
  canaryPassword: string;
  destPassword: string;
  relayAdminKey: string;
}

let shared: Promise<Lab> | undefined;

/** Brings the lab up once per test file (a warm `up` when it is already running). */
export function ensureLab(): Promise<Lab> {
  shared ??= (async () => {
    const ctx = labContext({ log: (line) => process.env.MRB_LAB_VERBOSE && console.error(line) });
    const up = await labUp(ctx);
    const read = (rel: string) => readFile(join(ctx.paths.dir, rel), 'utf8');
    return {
      ctx,
      up,
      ports: up.settings.ports,
      ca: await read(MATERIAL_FILES.caCert),
      canaryPassword: (await read(MATERIAL_FILES.canaryPassword)).trim(),
      destPassword: (await read(MATERIAL_FILES.destPassword)).trim(),
      relayAdminKey: await read(MATERIAL_FILES.relayAdminKey),
    };
  })();
  return shared;
}

/** Runs argv in a lab container; throws on a non-zero exit unless allowFail. */
export async function inLab(
  lab: Lab,
  role: Role,
  argv: string[],
  options: { allowFail?: boolean; timeoutMs?: number; stdin?: string } = {},
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const r = await dexec(lab.ctx.docker, CONTAINERS[role], argv, {
    timeoutMs: options.timeoutMs ?? 30_000,
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
  });
  if (r.exitCode !== 0 && !options.allowFail) {
    throw new Error(
      `${role}: ${argv.join(' ')} exited ${r.exitCode}: ${(r.stderr || r.stdout).slice(-1500)}`,
    );
  }
  return r;
}

export function token(prefix = 'lab'): string {
  return `${prefix}-${randomUUID()}`;
}

export const TOKEN_HEADER = 'X-Lab-Token';

/**
 * Submits a message with AUTH as canary@lab.test: port 587 with STARTTLS required, or 465 implicit TLS. The
 * server certificate is verified against the lab CA (never rejectUnauthorized: false). Returns the queue id.
 */
export async function submit(
  lab: Lab,
  message: { to: string; token: string; from?: string; subject?: string },
  mode: 'starttls' | 'implicit' = 'starttls',
): Promise<{ queueId: string; response: string }> {
  const transport = smtpTransport(
    {
      host: '127.0.0.1',
      port: mode === 'starttls' ? lab.ports.submission : lab.ports.submissions,
      tls: mode,
      ca: lab.ca,
      servername: NAMES.mailHost,
      user: NAMES.canaryUser,
      password: lab.canaryPassword,
    },
    { connectMs: 15_000, socketMs: 30_000 },
  );
  try {
    const info = await transport.sendMail({
      from: message.from ?? NAMES.canaryUser,
      to: message.to,
      subject: message.subject ?? `lab test ${message.token}`,
      text: `lab test message\n${message.token}\n`,
      headers: { [TOKEN_HEADER]: message.token },
    });
    const response = String(info.response ?? '');
    const queueId = queueIdFromResponse(response);
    if (!queueId) throw new Error(`no queue id in "${response}"`);
    return { queueId, response };
  } finally {
    transport.close();
  }
}

/**
 * Polls a mailbox over IMAPS (lab CA pinned) until a message with the token (in TOKEN_HEADER) arrives, or
 * one whose body contains `{ body: text }`.
 */
export async function waitForMail(
  lab: Lab,
  mailbox: 'dest' | 'mail',
  tokenValue: string | { body: string },
  timeoutMs = 60_000,
): Promise<{ subject: string; uid: number }> {
  const query =
    typeof tokenValue === 'string' ? { header: { [TOKEN_HEADER]: tokenValue } } : { body: tokenValue.body };
  const what = typeof tokenValue === 'string' ? tokenValue : `with "${tokenValue.body}"`;
  const account =
    mailbox === 'dest'
      ? {
          port: lab.ports.destImaps,
          user: NAMES.destUser,
          pass: lab.destPassword,
          servername: NAMES.destHost,
        }
      : {
          port: lab.ports.imaps,
          user: NAMES.canaryUser,
          pass: lab.canaryPassword,
          servername: NAMES.mailHost,
        };
  return pollUntil(
    `message ${what} in ${account.user}`,
    timeoutMs,
    async () => {
      const client = new ImapFlow({
        host: '127.0.0.1',
        port: account.port,
        secure: true,
        auth: { user: account.user, pass: account.pass },
        tls: { ca: lab.ca, servername: account.servername, minVersion: 'TLSv1.2' },
        logger: false,
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 15_000,
      });
      await client.connect();
      try {
        const lock = await client.getMailboxLock('INBOX');
        try {
          const uids = await client.search(query, { uid: true });
          const uid = Array.isArray(uids) ? uids[0] : undefined;
          if (uid === undefined) return undefined;
          const msg = await client.fetchOne(String(uid), { envelope: true }, { uid: true });
          return { uid, subject: (msg && msg.envelope?.subject) || '' };
        } finally {
          lock.release();
        }
      } finally {
        await client.logout().catch(() => client.close());
      }
    },
    1000,
  );
}

/** The last `lines` lines of a log in a lab container (default: the mail server's mail log). */
export async function mailLog(
  lab: Lab,
  role: Role = 'mailserver',
  path = '/var/log/mail/mail.log',
  lines = 5000,
): Promise<string> {
  // only the tail: after a large queue flood the log holds 100,000s of lines
  return (await inLab(lab, role, ['tail', '-n', String(lines), path])).stdout;
}

/** Waits until the mail server's log has a line matching `pattern` (bounded). Returns the line. */
export async function waitForLog(
  lab: Lab,
  pattern: RegExp,
  timeoutMs = 60_000,
  role: Role = 'mailserver',
  path = '/var/log/mail/mail.log',
): Promise<string> {
  return pollUntil(
    `log line ${pattern} in ${role}:${path}`,
    timeoutMs,
    async () => {
      const log = await mailLog(lab, role, path);
      return log.split('\n').find((l) => pattern.test(l));
    },
    1000,
  );
}

/** `postqueue -j` of the mail server, parsed. */
export async function queue(lab: Lab): Promise<
  {
    queue_name: string;
    queue_id: string;
    sender: string;
    recipients: { address: string; delay_reason?: string }[];
  }[]
> {
  const out = (await inLab(lab, 'mailserver', ['postqueue', '-j'], { timeoutMs: 120_000 })).stdout;
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as never);
}

/** Flushes the mail server's queue (also revives destinations Postfix marked dead). */
export async function flush(lab: Lab): Promise<void> {
  await inLab(lab, 'mailserver', ['postqueue', '-f']);
}

/** Waits until the queue no longer holds the given queue id (delivered or bounced). */
export async function waitQueueGone(lab: Lab, queueId: string, timeoutMs = 60_000): Promise<void> {
  await pollUntil(
    `queue id ${queueId} to leave the queue`,
    timeoutMs,
    async () => {
      const q = await queue(lab);
      return !q.some((m) => m.queue_id === queueId);
    },
    1000,
  );
}

/**
 * amavis hands every submitted message back to Postfix under a new queue id (127.0.0.1:10025); the relay
 * leg is logged under that id. Waits for amavis's "Queue-ID: <id> ... queued_as: <new>" line.
 */
export async function reinjectedId(lab: Lab, queueId: string, timeoutMs = 30_000): Promise<string> {
  const line = await waitForLog(lab, new RegExp(`Queue-ID: ${queueId}, .*queued_as: ([0-9A-F]+)`), timeoutMs);
  const id = /queued_as: ([0-9A-F]+)/.exec(line)?.[1];
  if (!id) throw new Error(`no queued_as in: ${line}`);
  return id;
}

/** Heals a fault even when the test failed half way, then flushes so deferred test mail moves on. */
export async function healAndFlush(lab: Lab, name: string): Promise<void> {
  const { findFault, healFault } = await import('../../src/lab/faults.js');
  await healFault(lab.ctx, findFault(name));
  await flush(lab);
}

/** Injects a fault for the length of `body`; afterwards, whatever happened, heals it and flushes the queue. */
export async function withFault<T>(lab: Lab, name: string, body: () => Promise<T>): Promise<T> {
  const { findFault, injectFault } = await import('../../src/lab/faults.js');
  await injectFault(lab.ctx, findFault(name), []);
  try {
    return await body();
  } finally {
    await healAndFlush(lab, name);
  }
}

/**
 * The set-up of a suite that injects faults (call it at the top of the file): before its tests the lab is
 * up and handed to `use`; after them, whatever happened, each of `faults` is healed and the queue flushed,
 * so the next file finds a healthy lab.
 */
export function labForFaultTests(use: (lab: Lab) => void, faults: readonly string[]): void {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await ensureLab();
    use(lab);
  });
  afterAll(async () => {
    if (!lab) return;
    for (const name of faults) await healAndFlush(lab, name).catch(() => undefined);
  });
}
