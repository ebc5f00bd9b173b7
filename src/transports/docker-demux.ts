/**
 * Docker's multiplexed exec stream (Tty false): frames of an 8-byte header (stream type, 3 zero bytes,
 * payload length big-endian) and the payload. The modem's demuxStream copies the rest of its buffer for
 * every frame, which is quadratic in the frames per chunk (postqueue's small writes make thousands); this
 * one hands out views of the chunks it receives and copies at most a header cut by a chunk boundary.
 */

const HEADER_BYTES = 8;
const STDOUT = 1;
const STDERR = 2;

export class DockerStreamDemux {
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerFilled = 0;
  /** Payload bytes still to come for the current frame, and where they go. */
  private remaining = 0;
  private target: ((chunk: Buffer) => void) | undefined;
  /** Not a multiplexed stream after all (a header with an unknown type): the rest is raw stdout. */
  private raw = false;

  constructor(
    private readonly stdout: (chunk: Buffer) => void,
    private readonly stderr: (chunk: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.raw) {
      this.stdout(chunk);
      return;
    }
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - at);
        this.target?.(chunk.subarray(at, at + take));
        this.remaining -= take;
        at += take;
        continue;
      }
      const take = Math.min(HEADER_BYTES - this.headerFilled, chunk.length - at);
      chunk.copy(this.header, this.headerFilled, at, at + take);
      this.headerFilled += take;
      at += take;
      if (this.headerFilled < HEADER_BYTES) return;
      this.headerFilled = 0;
      const type = this.header[0];
      if (type !== 0 && type !== STDOUT && type !== STDERR) {
        // As docker-modem does: pass everything through unchanged from here on.
        this.raw = true;
        this.stdout(Buffer.from(this.header));
        if (at < chunk.length) this.stdout(chunk.subarray(at));
        return;
      }
      this.remaining = this.header.readUInt32BE(4);
      this.target = type === STDERR ? this.stderr : type === STDOUT ? this.stdout : undefined;
    }
  }
}
