/**
 * Splits a byte stream into text lines for `onStdoutLine`, whatever the chunk boundaries. Works on bytes
 * (not decoded text) so a multi-byte UTF-8 character cut by a chunk boundary is decoded whole, and keeps
 * only the unfinished line between chunks, so a 30 MB output never sits in memory at once.
 */

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** A line longer than this is delivered cut at this length; its rest (up to the newline) is dropped. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The current line already reached maxLineBytes: drop bytes until its newline. */
  private overflowing = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    // A line begun in an earlier chunk ends here (or not at all): bytes are joined first.
    if (this.pendingBytes > 0 || this.overflowing) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline === -1) {
        this.keep(chunk, 0, chunk.length);
        return;
      }
      this.keep(chunk, 0, newline);
      this.emit();
      start = newline + 1;
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= start) {
      if (last - start <= this.maxLineBytes) this.emitWhole(chunk, start, last);
      else this.emitEach(chunk, start, last);
      start = last + 1;
    }
    this.keep(chunk, start, chunk.length);
  }

  /**
   * Complete lines chunk[start..end) (end is a newline) no longer than maxLineBytes in all: decoded in one
   * go and split as text. A newline byte is never part of a multi-byte UTF-8 sequence, so this yields the
   * same strings as decoding each line on its own, for a fraction of the calls.
   */
  private emitWhole(chunk: Buffer, start: number, end: number): void {
    const text = chunk.toString('utf8', start, end);
    let from = 0;
    for (;;) {
      const newline = text.indexOf('\n', from);
      const to = newline === -1 ? text.length : newline;
      const cr = to > from && text.charCodeAt(to - 1) === CARRIAGE_RETURN;
      this.onLine(text.slice(from, cr ? to - 1 : to));
      if (newline === -1) return;
      from = newline + 1;
    }
  }

  private emitEach(chunk: Buffer, start: number, end: number): void {
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline === -1 || newline > end) return;
      this.keep(chunk, start, newline);
      this.emit();
      start = newline + 1;
    }
  }

  /** Delivers a last line that had no trailing newline. */
  end(): void {
    if (this.pendingBytes > 0 || this.overflowing) this.emit();
  }

  private keep(chunk: Buffer, start: number, end: number): void {
    const room = this.maxLineBytes - this.pendingBytes;
    const take = Math.min(end - start, room);
    if (take > 0) {
      this.pending.push(chunk.subarray(start, start + take));
      this.pendingBytes += take;
    }
    if (end - start > take) this.overflowing = true;
  }

  private emit(): void {
    const only = this.pending.length === 1 ? this.pending[0] : undefined;
    let bytes = only ?? Buffer.concat(this.pending, this.pendingBytes);
    // CRLF output (Windows, some network tools): the CR belongs to the line ending, not to the line.
    if (bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN) bytes = bytes.subarray(0, -1);
    this.pending = [];
    this.pendingBytes = 0;
    this.overflowing = false;
    this.onLine(bytes.toString('utf8'));
  }
}
