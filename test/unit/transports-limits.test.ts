import { describe, expect, it, vi } from 'vitest';
import { CappedBuffer, utf8Boundary } from '../../src/transports/capped.js';
import { LineSplitter } from '../../src/transports/lines.js';
import { runLimited } from '../../src/transports/limits.js';
import type { OutputSinks, StartedCommand } from '../../src/transports/limits.js';
import { TransportError } from '../../src/transports/types.js';
import type { ExecRequest } from '../../src/transports/types.js';

function split(chunks: (string | Buffer)[], maxLineBytes?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), maxLineBytes);
  for (const chunk of chunks) splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  splitter.end();
  return lines;
}

describe('line splitter', () => {
  it('joins lines cut by chunk boundaries and keeps empty lines', () => {
    expect(split(['al', 'pha\nbe', 'ta\n', '\ngam', 'ma'])).toEqual(['alpha', 'beta', '', 'gamma']);
    expect(split(['one\n', 'two\n'])).toEqual(['one', 'two']);
    expect(split([])).toEqual([]);
  });

  it('strips CRLF even when CR and LF arrive in different chunks', () => {
    expect(split(['a\r\nb\r', '\nc\r\n'])).toEqual(['a', 'b', 'c']);
    expect(split(['mid\rdle\n'])).toEqual(['mid\rdle']);
  });

  it('decodes a multi-byte character split across chunks', () => {
    const bytes = Buffer.from('größe ✓\n');
    const cuts = [...Array(bytes.length).keys()].map((i) => [bytes.subarray(0, i), bytes.subarray(i)]);
    for (const [a, b] of cuts)
      expect(split([a ?? Buffer.alloc(0), b ?? Buffer.alloc(0)])).toEqual(['größe ✓']);
  });

  it('works byte by byte', () => {
    const text = 'x\ny\r\n\nz';
    expect(split([...Buffer.from(text)].map((b) => Buffer.from([b])))).toEqual(['x', 'y', '', 'z']);
  });

  it('cuts an over-long line and resumes at the next one', () => {
    expect(split(['abcdefgh', 'ijk\nshort\n'], 4)).toEqual(['abcd', 'shor']);
    expect(split(['abcdefgh'], 4)).toEqual(['abcd']);
  });

  it('cuts an over-long line inside one chunk and keeps its neighbours whole', () => {
    expect(split(['ab\nabcdefgh\néx\r\nyz'], 4)).toEqual(['ab', 'abcd', 'éx', 'yz']);
  });
});

describe('capped buffer', () => {
  it('keeps up to the cap and reports truncation', () => {
    const buffer = new CappedBuffer(5);
    buffer.push(Buffer.from('abc'));
    buffer.push(Buffer.from('de'));
    expect([buffer.text(), buffer.truncated]).toEqual(['abcde', false]);
    buffer.push(Buffer.from('f'));
    expect([buffer.text(), buffer.truncated]).toEqual(['abcde', true]);
  });

  it('with a zero cap keeps nothing and reports any output', () => {
    const buffer = new CappedBuffer(0);
    expect(buffer.truncated).toBe(false);
    buffer.push(Buffer.from('x'));
    expect([buffer.text(), buffer.truncated]).toEqual(['', true]);
  });

  it('never ends truncated text inside a character', () => {
    const text = 'aé✓😀';
    const bytes = Buffer.from(text);
    for (let cap = 0; cap < bytes.length; cap += 1) {
      const buffer = new CappedBuffer(cap);
      buffer.push(bytes);
      expect(text.startsWith(buffer.text())).toBe(true);
      expect(buffer.text()).not.toContain('\ufffd');
    }
    expect(utf8Boundary(bytes, bytes.length)).toBe(bytes.length);
  });
});

/** A fake transport: emits scripted output, then exits with `code` (or never, when code is undefined). */
function fakeStart(script: { out?: string[]; err?: string[]; code?: number | null; delayMs?: number }) {
  const killed = vi.fn(async () => undefined);
  const start = async (sinks: OutputSinks): Promise<StartedCommand> => {
    for (const chunk of script.out ?? []) sinks.stdout(Buffer.from(chunk));
    for (const chunk of script.err ?? []) sinks.stderr(Buffer.from(chunk));
    const exited =
      script.code === undefined
        ? new Promise<number | null>(() => undefined)
        : new Promise<number | null>((resolve) =>
            setTimeout(() => resolve(script.code ?? null), script.delayMs ?? 0),
          );
    return { exited, kill: killed };
  };
  return { start, killed };
}

const request = (over: Partial<ExecRequest> = {}): ExecRequest => ({
  argv: ['prog'],
  timeoutMs: 1_000,
  maxOutputBytes: 1_000,
  ...over,
});

describe('runLimited', () => {
  it('returns output, exit code, duration and truncation flags', async () => {
    const { start } = fakeStart({ out: ['hello ', 'world\n'], err: ['warn'], code: 3, delayMs: 20 });
    const result = await runLimited(request({ maxOutputBytes: 8 }), 'prog', start);
    expect(result).toMatchObject({
      exitCode: 3,
      stdout: 'hello wo',
      stderr: 'warn',
      truncated: { stdout: true, stderr: false },
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(15);
  });

  it('streams every stdout line even past the cap', async () => {
    const lines: string[] = [];
    const { start } = fakeStart({ out: ['1\n2', '\n3\n4'], code: 0 });
    const result = await runLimited(
      request({ maxOutputBytes: 2, onStdoutLine: (l) => lines.push(l) }),
      'p',
      start,
    );
    expect(lines).toEqual(['1', '2', '3', '4']);
    expect(result.truncated.stdout).toBe(true);
  });

  it('kills the command and throws a retryable timeout past the deadline', async () => {
    const { start, killed } = fakeStart({ out: ['partial'] });
    const error: unknown = await runLimited(request({ timeoutMs: 50 }), "'prog' on test", start).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ kind: 'timeout', retryable: true });
    expect((error as Error).message).toBe("'prog' on test ran past its 50 ms deadline");
    expect(killed).toHaveBeenCalledOnce();
  });

  it('kills a command that finishes starting only after the deadline', async () => {
    const killed = vi.fn(async () => undefined);
    const slowStart = () =>
      new Promise<StartedCommand>((resolve) =>
        setTimeout(() => resolve({ exited: new Promise(() => undefined), kill: killed }), 80),
      );
    await expect(runLimited(request({ timeoutMs: 20 }), 'p', slowStart)).rejects.toMatchObject({
      kind: 'timeout',
    });
    await vi.waitFor(() => expect(killed).toHaveBeenCalledOnce(), { timeout: 1_000 });
  });

  it('stops the command when the line consumer throws, and passes the error on', async () => {
    const { start, killed } = fakeStart({ out: ['ok\nbad\nnever\n'] });
    const consumer = (line: string) => {
      if (line === 'bad') throw new Error('consumer failed');
    };
    await expect(runLimited(request({ onStdoutLine: consumer }), 'p', start)).rejects.toThrow(
      'consumer failed',
    );
    expect(killed).toHaveBeenCalledOnce();
  });

  it('stops the command when its signal aborts, and rejects with the reason', async () => {
    const { start, killed } = fakeStart({ out: ['line 1\n'] });
    const cancel = new AbortController();
    const lines: string[] = [];
    const running = runLimited(
      request({ timeoutMs: 60_000, signal: cancel.signal, onStdoutLine: (l) => lines.push(l) }),
      'p',
      start,
    );
    await vi.waitFor(() => expect(lines).toEqual(['line 1']));
    const reason = new Error('activity cancelled');
    cancel.abort(reason);
    await expect(running).rejects.toBe(reason);
    expect(killed).toHaveBeenCalledOnce();
  });

  it('does not leave a command running when the signal aborted before the start', async () => {
    const { start, killed } = fakeStart({});
    const cancel = new AbortController();
    cancel.abort(new Error('cancelled already'));
    await expect(
      runLimited(request({ timeoutMs: 60_000, signal: cancel.signal }), 'p', start),
    ).rejects.toThrow('cancelled already');
    await vi.waitFor(() => expect(killed).toHaveBeenCalledOnce(), { timeout: 1_000 });
  });

  it('a command that ends normally is not affected by a later abort', async () => {
    const { start, killed } = fakeStart({ out: ['done\n'], code: 0 });
    const cancel = new AbortController();
    const result = await runLimited(request({ signal: cancel.signal }), 'p', start);
    cancel.abort(new Error('too late'));
    expect(result.exitCode).toBe(0);
    expect(killed).not.toHaveBeenCalled();
  });

  it('passes start failures through', async () => {
    const start = async (): Promise<StartedCommand> => {
      throw new TransportError('not-found', 'no such container');
    };
    await expect(runLimited(request(), 'p', start)).rejects.toMatchObject({
      kind: 'not-found',
      retryable: false,
    });
  });

  it.each([
    ['empty argv', { argv: [] }],
    ['empty program', { argv: [''] }],
    ['NUL byte', { argv: ['echo', 'a\0b'] }],
    ['zero timeout', { timeoutMs: 0 }],
    ['infinite timeout', { timeoutMs: Infinity }],
    ['negative cap', { maxOutputBytes: -1 }],
    ['fractional cap', { maxOutputBytes: 1.5 }],
  ])('refuses an invalid request (%s) as a config error', async (_name, over) => {
    const { start } = fakeStart({ code: 0 });
    await expect(runLimited(request(over), 'p', start)).rejects.toMatchObject({ kind: 'config' });
  });
});
