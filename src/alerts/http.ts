/** HTTP pieces the receiver's endpoints share: an error that carries its status, and a bounded body read. */
import type { IncomingMessage } from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string,
    /** Extra response headers (Retry-After on a 503). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * How much of a refused body is still read (and dropped) before the 413 goes out, and for how long. A client
 * that is still sending when the server answers and closes gets a reset instead of the answer; reading the
 * rest first lets it see the 413. Beyond these bounds the connection is closed anyway.
 */
export const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;
export const DRAIN_LIMIT_MS = 10_000;

/** Reads and drops the rest of a request body, up to `maxBytes` and `maxMs`; resolves either way. */
function drain(req: IncomingMessage, alreadyRead: number, maxBytes: number, maxMs: number): Promise<void> {
  return new Promise((done) => {
    let size = alreadyRead;
    const finish = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', finish);
      req.off('error', finish);
      done();
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        req.pause();
        finish();
      }
    };
    const timer = setTimeout(finish, maxMs);
    if (req.readableEnded) return finish();
    req.on('data', onData);
    req.on('end', finish);
    req.on('error', finish);
    req.resume();
  });
}

export function readBody(
  req: IncomingMessage,
  limit: number,
  drainLimit: { bytes: number; ms: number } = { bytes: DRAIN_LIMIT_BYTES, ms: DRAIN_LIMIT_MS },
): Promise<string> {
  const tooLarge = (): HttpError => new HttpError(413, `body larger than ${limit} bytes`, 'too-large');
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      // A declared size beyond the drain limit is refused at once; the connection then closes.
      if (declared > drainLimit.bytes) return reject(tooLarge());
      return void drain(req, 0, drainLimit.bytes, drainLimit.ms).then(() => reject(tooLarge()));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      // A body sent without content-length: drop the rest (bounded), then answer 413.
      req.off('data', onData);
      chunks.length = 0;
      void drain(req, size, drainLimit.bytes, drainLimit.ms).then(() => reject(tooLarge()));
    };
    req.on('data', onData);
    req.on('end', () => {
      if (size <= limit) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}
