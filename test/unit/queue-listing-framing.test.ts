/**
 * The framing of the queue listing: the catalogue's coalescing pipeline run for real (sh, dd, find, wc)
 * with a fake postqueue/postconf on PATH, Docker's exec stream demultiplexed however it is cut, and the
 * line splitter's whole-chunk decoding giving the same lines as decoding line by line.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dmsCommands } from '../../src/commands/dms.js';
import { postfixHostCommands } from '../../src/commands/postfix-host.js';
import { parseQueueFileCount, summariseQueueJson } from '../../src/parsers/queue-summary.js';
import { DockerStreamDemux } from '../../src/transports/docker-demux.js';
import { LineSplitter } from '../../src/transports/lines.js';
import { LocalTransport } from '../../src/transports/local.js';
import { syntheticQueueLines } from '../fixtures/synthetic-queue.js';

const NOW = 1_795_320_000;
let dir = '';
let listing = '';

async function fakeProgram(name: string, script: string): Promise<void> {
  const path = join(dir, 'bin', name);
  await writeFile(path, `#!/bin/sh\n${script}\n`);
  await chmod(path, 0o755);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'queue-framing-'));
  await mkdir(join(dir, 'bin'));
  // 3,000 messages: several dd blocks' worth of input, written by postqueue in many small writes.
  listing = `${[...syntheticQueueLines({ count: 3_000, now: NOW })].join('\n')}\n`;
  await writeFile(join(dir, 'listing.jsonl'), listing);
  await fakeProgram(
    'postqueue',
    `[ "$1" = -j ] || exit 64\ncat "${join(dir, 'listing.jsonl')}"\n[ -z "$FAKE_FAIL" ] || { echo "postqueue: fatal: Queue report unavailable" >&2; exit 69; }`,
  );
  await fakeProgram('postconf', `[ "$*" = "-h queue_directory" ] && echo "${join(dir, 'spool')}"`);
  for (const q of ['maildrop', 'incoming', 'active', 'deferred/A', 'deferred/B', 'hold', 'corrupt']) {
    await mkdir(join(dir, 'spool', q), { recursive: true });
  }
  const files = ['active/1', 'deferred/A/A1', 'deferred/A/A2', 'deferred/B/B1', 'hold/H1', 'corrupt/C1'];
  for (const f of files) await writeFile(join(dir, 'spool', f), 'x');
  vi.stubEnv('PATH', `${join(dir, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

describe('queue listing through the coalescing pipeline', () => {
  const local = new LocalTransport();
  const run = (build: () => { argv: readonly string[] }, onStdoutLine?: (l: string) => void) =>
    local.exec({ argv: build().argv, timeoutMs: 20_000, maxOutputBytes: 64 * 1024 * 1024, onStdoutLine });

  it('is the same command on both mail server flavours, a constant script with fixed arguments', () => {
    expect(postfixHostCommands.queueJson().argv).toEqual(dmsCommands.queueJson().argv);
    expect(dmsCommands.queueJson().argv.slice(3)).toEqual(['queue-json', 'postqueue', '-j']);
    expect(postfixHostCommands.queueFileCount().argv).toEqual(dmsCommands.queueFileCount().argv);
  });

  it('passes postqueue output through byte for byte, and the summary is the same', async () => {
    const lines: string[] = [];
    const r = await run(dmsCommands.queueJson, (l) => lines.push(l));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(listing);
    expect(`${lines.join('\n')}\n`).toBe(listing);
    expect(summariseQueueJson(lines.join('\n'), { now: NOW })).toEqual(
      summariseQueueJson(listing, { now: NOW }),
    );
  });

  it("fails with postqueue's exit status and message when postqueue fails after writing", async () => {
    vi.stubEnv('FAKE_FAIL', '1');
    try {
      const r = await run(dmsCommands.queueJson);
      expect(r.exitCode).toBe(69);
      expect(r.stderr).toContain('Queue report unavailable');
      expect(dmsCommands.queueJson().okExitCodes).not.toContain(69);
    } finally {
      vi.stubEnv('FAKE_FAIL', '');
    }
  });

  it('counts the files of the queues postqueue lists (not corrupt/)', async () => {
    const r = await run(dmsCommands.queueFileCount);
    expect(r.exitCode).toBe(0);
    expect(parseQueueFileCount(r.stdout)).toBe(5);
  });

  it('fails the count when find fails, rather than reporting a short count', async () => {
    await fakeProgram('find', 'echo one-file\nexit 1');
    try {
      const r = await run(dmsCommands.queueFileCount);
      expect(r.exitCode).toBe(1);
    } finally {
      await rm(join(dir, 'bin', 'find'));
    }
  });

  it('parses only a plain count', () => {
    expect(parseQueueFileCount('      12\n')).toBe(12);
    expect(() => parseQueueFileCount('')).toThrow(/not a count/);
    expect(() => parseQueueFileCount('12 files')).toThrow(/not a count/);
  });
});

/** Docker's framing: 8-byte header (type, 0, 0, 0, length) then the payload. */
function frame(type: number, payload: string | Buffer): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

function demux(chunks: Buffer[]): { out: string; err: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const d = new DockerStreamDemux(
    (c) => out.push(Buffer.from(c)),
    (c) => err.push(Buffer.from(c)),
  );
  for (const c of chunks) d.push(c);
  return { out: Buffer.concat(out).toString(), err: Buffer.concat(err).toString() };
}

function cutEvery(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return chunks;
}

describe('docker exec stream demultiplexing', () => {
  const stream = Buffer.concat([
    frame(1, 'alpha\n'),
    frame(2, 'warning\n'),
    frame(1, ''),
    frame(1, 'beta größe\n'),
    frame(2, 'more\n'),
    frame(1, 'x'.repeat(70_000)),
  ]);
  const expected = { out: `alpha\nbeta größe\n${'x'.repeat(70_000)}`, err: 'warning\nmore\n' };

  it('separates stdout and stderr however the stream is cut', () => {
    for (const size of [1, 3, 7, 8, 9, 13, 4096, stream.length]) {
      expect(demux(cutEvery(stream, size))).toEqual(expected);
    }
  });

  it('passes a stream that is not multiplexed through as stdout, as docker-modem does', () => {
    expect(demux([Buffer.from('plain text, no frames\n')])).toEqual({
      out: 'plain text, no frames\n',
      err: '',
    });
  });
});

describe('line splitter, whole-chunk decoding', () => {
  const text = 'a\r\nbé\n\n✓ größe\r\n{"x":1}\nlast';

  function split(chunks: Buffer[], maxLineBytes?: number): string[] {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l), maxLineBytes);
    for (const c of chunks) s.push(c);
    s.end();
    return lines;
  }

  it('gives the lines of a per-line decode for every chunk size', () => {
    const bytes = Buffer.from(text);
    const expected = ['a', 'bé', '', '✓ größe', '{"x":1}', 'last'];
    for (let size = 1; size <= bytes.length; size++) expect(split(cutEvery(bytes, size))).toEqual(expected);
  });

  it('still cuts over-long lines when a chunk holds more than maxLineBytes of lines', () => {
    expect(split([Buffer.from('ab\ncdefgh\nij\n')], 4)).toEqual(['ab', 'cdef', 'ij']);
    expect(split([Buffer.from('abcd\nef\n')], 4)).toEqual(['abcd', 'ef']);
  });

  it('decodes invalid UTF-8 the same whole or line by line', () => {
    const bytes = Buffer.from([0x61, 0xe2, 0x82, 0x0a, 0xff, 0x62, 0x0a]);
    const perLine = [bytes.subarray(0, 3).toString('utf8'), bytes.subarray(4, 6).toString('utf8')];
    expect(split([bytes])).toEqual(perLine);
  });
});
