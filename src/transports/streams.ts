/**
 * Waiting for a readable stream to be finished, whichever of 'end' or 'close' comes first (or already
 * came). It never rejects: stream errors are the transport's to classify, this only says "no more data".
 */
import type { Readable } from 'node:stream';

export function drained(stream: Readable): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('end', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}
