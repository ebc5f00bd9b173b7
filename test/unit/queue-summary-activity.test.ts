/**
 * The queueSummary activity at any queue size, against a fake mail server host: it counts the queue files
 * beside the listing and stops the listing at the limit sized from that count, heartbeats its progress,
 * and a cancellation stops the listing (the host command is killed) instead of letting it run on.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeAllHosts, wrapHostTransportsForTests } from '../../src/activities/context.js';
import { queueSummary } from '../../src/activities/queue.js';
import { COMMAND_LIMIT_MS, QUEUE_LIST_MAX_MS, queueListLimitMs } from '../../src/commands/limits.js';
import { ERROR_TYPE } from '../../src/shared/errors.js';
import { runLimited, type StartedCommand } from '../../src/transports/limits.js';
import type { ExecRequest, ExecResult, HostTransport } from '../../src/transports/types.js';
import { syntheticQueueLines } from '../fixtures/synthetic-queue.js';
import { writeOneTargetConfig } from '../helpers/one-target-config.js';

const NOW = 1_795_320_000;
type Summary = Awaited<ReturnType<typeof queueSummary>>;

/**
 * A mail server host whose queue file count is `files` and whose `postqueue -j` prints `lines` (or, with
 * `hang`, prints them and then never ends). Commands run through the transports' own runLimited, so
 * deadlines and cancellation behave as on a real host; `kills` counts the commands stopped early.
 */
class FakeMailServer implements HostTransport {
  readonly description = 'fake mail server';
  readonly requests: ExecRequest[] = [];
  kills = 0;

  constructor(
    private readonly files: number,
    private readonly lines: readonly string[],
    private readonly hang = false,
  ) {}

  exec(request: ExecRequest): Promise<ExecResult> {
    this.requests.push(request);
    const listing = request.argv.includes('postqueue');
    const out = listing ? this.lines.map((l) => `${l}\n`).join('') : `${this.files}\n`;
    return runLimited(request, 'fake', async (sinks): Promise<StartedCommand> => {
      sinks.stdout(Buffer.from(out));
      return {
        exited: listing && this.hang ? new Promise(() => undefined) : Promise.resolve(0),
        kill: async () => {
          this.kills++;
        },
      };
    });
  }

  async close(): Promise<void> {}
}

let dir: string;
let host: FakeMailServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'queue-summary-activity-'));
  const config = await writeOneTargetConfig({
    dir,
    name: 't',
    domain: 't.test',
    dockerSocket: '/nonexistent/docker.sock',
    container: 'mailserver',
    secretEnv: 'MRB_UNIT_UNUSED',
  });
  process.env.MRB_CONFIG = config;
  // The activities build a target's host once and keep it: it hands each command to the test's fake.
  wrapHostTransportsForTests(() => ({
    description: 'fake mail server',
    exec: (request) => host.exec(request),
    close: async () => undefined,
  }));
});

afterAll(async () => {
  wrapHostTransportsForTests((transport) => transport);
  await closeAllHosts();
  await rm(dir, { recursive: true, force: true });
});

describe('queueSummary on a large queue', () => {
  it('counts the queue beside the listing; heartbeats the count and the lines read', async () => {
    const lines = [...syntheticQueueLines({ count: 45_000, now: NOW })];
    host = new FakeMailServer(1_000_000, lines);
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const result = await env.run<[string], Summary, typeof queueSummary>(queueSummary, 't');
    expect(result.evidence.messages).toBe(45_000);
    const count = host.requests.find((r) => r.argv.includes('find'));
    const listing = host.requests.find((r) => r.argv.includes('postqueue'));
    expect(count?.timeoutMs).toBe(COMMAND_LIMIT_MS.queueCount);
    // The transport's own limit is the ceiling; the activity stops it sooner through the signal.
    expect(listing?.timeoutMs).toBe(QUEUE_LIST_MAX_MS);
    expect(listing?.signal).toBeDefined();
    // Details are merged: the count and the progress, in whichever order they came.
    expect(beats).toContainEqual(expect.objectContaining({ queueFiles: 1_000_000 }));
    expect(beats).toContainEqual(expect.objectContaining({ queueLinesRead: 40_000 }));
  });

  it.each([
    ['a small queue: the base limit', 3, COMMAND_LIMIT_MS.queueList],
    ['a million messages: the limit for a million', 1_000_000, queueListLimitMs(1_000_000)],
  ])('a listing that hangs is stopped at the limit its count allows (%s)', async (_what, files, limitMs) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      host = new FakeMailServer(files, [...syntheticQueueLines({ count: 10, now: NOW })], true);
      const running = new MockActivityEnvironment().run(queueSummary, 't');
      const failure = running.catch((e: unknown) => e);
      await vi.waitFor(() => expect(host.requests).toHaveLength(2));
      await vi.advanceTimersByTimeAsync(limitMs - 1_000);
      expect(host.kills).toBe(0);
      await vi.advanceTimersByTimeAsync(2_000);
      const error = await failure;
      expect(error).toBeInstanceOf(ApplicationFailure);
      expect(error).toMatchObject({ type: ERROR_TYPE.transportTimeout, nonRetryable: false });
      expect(String((error as Error).message)).toContain(`${limitMs} ms limit`);
      expect(host.kills).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a cancelled summary stops its listing on the host instead of running to the limit', async () => {
    host = new FakeMailServer(1_000_000, [...syntheticQueueLines({ count: 10, now: NOW })], true);
    const env = new MockActivityEnvironment();
    const running = env.run(queueSummary, 't');
    await vi.waitFor(() => expect(host.requests).toHaveLength(2));
    env.cancel();
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    expect(host.kills).toBe(1);
  });
});
