/**
 * Keeps at most `cap` bytes of one output stream and remembers whether anything was dropped. Chunks are
 * kept as they come and joined once at the end, so a large output costs no repeated copying.
 */
export class CappedBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = false;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    const room = this.cap - this.size;
    if (chunk.length > room) this.dropped = true;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  get truncated(): boolean {
    return this.dropped;
  }

  /** The kept bytes as UTF-8; when cut, the cut is moved back so no character is split in half. */
  text(): string {
    const bytes = Buffer.concat(this.chunks, this.size);
    const end = this.dropped ? utf8Boundary(bytes, bytes.length) : bytes.length;
    return bytes.toString('utf8', 0, end);
  }
}

/**
 * The largest index <= end that does not fall inside a multi-byte UTF-8 sequence of `bytes`. Walks back
 * over at most three continuation bytes (10xxxxxx) to the lead byte and keeps the sequence only if whole.
 */
export function utf8Boundary(bytes: Buffer, end: number): number {
  let lead = end;
  while (lead > 0 && lead > end - 4 && ((bytes[lead - 1] ?? 0) & 0xc0) === 0x80) lead -= 1;
  if (lead === 0) return end;
  const first = bytes[lead - 1] ?? 0;
  const length = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
  return end - (lead - 1) >= length ? end : lead - 1;
}
