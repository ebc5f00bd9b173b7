/**
 * waitCanaryDelivered's cost per canary (issue 14.4: a fleet's nightly verification is CPU-bound): the relay
 * leg's first look at the mail log (a real file here, read by the catalogue's tail) waits a moment rather
 * than cost a command that finds nothing yet; the arrival leg searches again on one IMAP connection
 * (imapflow faked), reconnecting when it drops, and logs out at the end.
 */
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeAllHosts, wrapHostTransportsForTests } from '../../src/activities/context.js';
import { FIRST_LOG_LOOK_MS, waitCanaryDelivered } from '../../src/activities/delivery.js';
import { LocalTransport } from '../../src/transports/local.js';
import type { ExecRequest } from '../../src/transports/types.js';
import { writeOneTargetConfig } from '../helpers/one-target-config.js';

/** A stand-in for imapflow's client: counts connections; the canary "arrives" at the `arrivesAt`-th search. */
const imap = vi.hoisted(() => {
  const state = { connections: 0, searches: 0, logouts: 0, arrivesAt: 1, dropAtSearch: 0 };
  class FakeImapFlow {
    usable = false;
    constructor() {
      state.connections++;
    }
    on(): this {
      return this;
    }
    async connect(): Promise<void> {
      this.usable = true;
    }
    async getMailboxLock(): Promise<{ release(): void }> {
      return { release: () => undefined };
    }
    async noop(): Promise<void> {
      if (state.searches + 1 === state.dropAtSearch) {
        state.dropAtSearch = 0;
        this.usable = false;
        throw new Error('Connection not available');
      }
    }
    async search(): Promise<number[]> {
      state.searches++;
      return state.searches >= state.arrivesAt ? [7] : [];
    }
    async logout(): Promise<void> {
      state.logouts++;
      this.usable = false;
    }
    close(): void {
      this.usable = false;
    }
  }
  return { state, FakeImapFlow };
});
vi.mock('imapflow', () => ({ ImapFlow: imap.FakeImapFlow }));

const RELAY = 'relay.t.test';
const ID1 = 'A1B2C3D4E5';
const ID2 = 'F6A7B8C9D0';
const stamp = (i: number) => `2026-12-02T03:02:${String(i % 60).padStart(2, '0')}.261536+00:00 mail`;
const noise = (i: number) =>
  `${stamp(i)} postfix/smtpd[${1000 + i}]: connect from unknown[192.0.2.${i % 250}] (other traffic, line ${i})\n`;
const viaAmavis = `${stamp(1)} postfix/smtp[2183]: ${ID1}: to=<u@t.test>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.3, delays=0.01/0.02/0.03/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ${ID2})\n`;
const toRelay = `${stamp(2)} postfix/smtp[2190]: ${ID2}: to=<u@t.test>, relay=${RELAY}[192.0.2.9]:2525, delay=0.5, delays=0.01/0.02/0.03/0.4, dsn=2.0.0, status=sent (250 Ok)\n`;

let dir: string;
let logPath: string;
/** What each poll of the relay leg ran and got; `beforeRead[k]` changes the log just before read k. */
let reads: { argv: readonly string[]; stdoutBytes: number }[];
let beforeRead: Array<(() => Promise<void>) | undefined>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'delivery-activity-'));
  logPath = join(dir, 'mail.log');
  const config = await writeOneTargetConfig({
    dir,
    name: 't',
    domain: 't.test',
    dockerSocket: '/nonexistent/docker.sock',
    container: 'mailserver',
    mailLog: logPath,
    secretEnv: 'MRB_UNIT_UNUSED',
  });
  process.env.MRB_CONFIG = config;
  // The mail server's commands run on this machine, against the log file above.
  const local = new LocalTransport();
  wrapHostTransportsForTests(() => ({
    description: 'local mail log',
    exec: async (request: ExecRequest) => {
      await beforeRead[reads.length]?.();
      const r = await local.exec(request);
      reads.push({ argv: request.argv, stdoutBytes: Buffer.byteLength(r.stdout) });
      return r;
    },
    close: async () => undefined,
  }));
});

afterAll(async () => {
  wrapHostTransportsForTests((transport) => transport);
  await closeAllHosts();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  // A log with history: ~3000 lines (~300 KB) before the canary.
  await writeFile(logPath, Array.from({ length: 3000 }, (_, i) => noise(i)).join(''));
  reads = [];
  beforeRead = [];
  Object.assign(imap.state, { connections: 0, searches: 0, logouts: 0, arrivesAt: 1, dropAtSearch: 0 });
});

type Delivered = Awaited<ReturnType<typeof waitCanaryDelivered>>;

/** The pauses the activity asked for, in order. */
let sleeps: number[];

/** Runs the activity with instant polling pauses (the polls are driven by `beforeRead`, not the clock). */
async function deliver(): Promise<Delivered> {
  const env = new MockActivityEnvironment();
  sleeps = [];
  Object.assign(env.context, {
    sleep: (ms: number) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  });
  return env.run<[string, { queueId: string; token: string }], Delivered, typeof waitCanaryDelivered>(
    waitCanaryDelivered,
    't',
    { queueId: ID1, token: 'mrb-token' },
  );
}

describe('waitCanaryDelivered, relay leg', () => {
  it('first looks at the log a moment after acceptance, then every 2 s, across the amavis hop', async () => {
    beforeRead[1] = () => appendFile(logPath, noise(3001) + viaAmavis);
    beforeRead[2] = () => appendFile(logPath, noise(3002) + toRelay);
    const result = await deliver();
    expect(result.ok).toBe(true);
    expect(result.evidence.trace.hops.map((h) => h.queueId)).toEqual([ID1, ID2]);
    expect(reads).toHaveLength(3);
    // A look at once would nearly always find nothing yet: the first waits, the next two 2 s each.
    expect(sleeps.slice(0, 3)).toEqual([FIRST_LOG_LOOK_MS, 2_000, 2_000]);
  });
});

describe('waitCanaryDelivered, arrival leg', () => {
  it('searches on one IMAP connection until the canary is there, then logs out', async () => {
    await appendFile(logPath, viaAmavis + toRelay);
    imap.state.arrivesAt = 3;
    const result = await deliver();
    expect(result.ok).toBe(true);
    expect(result.evidence.imap?.arrived).toBe(true);
    expect(imap.state).toMatchObject({ searches: 3, connections: 1, logouts: 1 });
  });

  it('reconnects when the connection drops between polls', async () => {
    await appendFile(logPath, viaAmavis + toRelay);
    Object.assign(imap.state, { arrivesAt: 3, dropAtSearch: 2 });
    const result = await deliver();
    expect(result.ok).toBe(true);
    expect(imap.state).toMatchObject({ searches: 3, connections: 2, logouts: 1 });
  });
});
