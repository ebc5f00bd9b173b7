/** HTTP pieces the receiver's endpoints share: an error that carries its status, and a bounded body read. */
import type { IncomingMessage } from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new HttpError(413, `body larger than ${limit} bytes`, 'too-large'));
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      // Stop reading (a body sent without content-length); the 413 goes out with "connection: close".
      req.off('data', onData);
      req.pause();
      reject(new HttpError(413, `body larger than ${limit} bytes`, 'too-large'));
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
