/**
 * Output of readFileFrom (commands/posix.ts): a header line "<inode> <from> <size>", then the file's bytes
 * from `from` up to `size`. FileFollower strings such reads together into whole lines, each read once.
 */
import type { FilePosition } from '../commands/posix.js';
import { excerpt, ParseError } from './errors.js';

export interface FileChunk {
  readonly inode: string;
  /** Where the bytes start: the offset asked for, or the start of a fresh window (a new file, a gap). */
  readonly from: number;
  /** The file's size when read; the bytes end there. */
  readonly size: number;
  readonly text: string;
}

const HEADER = /^([0-9]{1,20}) ([0-9]{1,16}) ([0-9]{1,16})\n/;

export function parseFileChunk(output: string): FileChunk {
  const m = HEADER.exec(output);
  if (!m) throw new ParseError('file read', `expected "<inode> <from> <size>" first: ${excerpt(output)}`);
  const from = Number(m[2]);
  const size = Number(m[3]);
  if (from > size) throw new ParseError('file read', `starts at ${from}, past the size ${size}`);
  return { inode: m[1]!, from, size, text: output.slice(m[0].length) };
}

/**
 * Follows a growing file (a log) through successive reads. An unfinished last line waits for the read that
 * completes it; when a read starts a fresh window (the file was rotated, or grew by more than a window),
 * its first line is cut and dropped, as a tail drops lines older than it shows.
 */
export class FileFollower {
  private at: FilePosition | undefined;
  private partial = '';

  /** Where the next read starts (undefined: the first read, the file's last window). */
  get position(): FilePosition | undefined {
    return this.at;
  }

  /** The complete lines that this read's output adds, as text. */
  add(output: string, truncated = false): string {
    const chunk = parseFileChunk(output);
    const continues = this.at?.inode === chunk.inode && this.at.offset === chunk.from;
    let text = continues ? this.partial + chunk.text : chunk.text;
    if (!continues && chunk.from > 0) text = text.slice(text.indexOf('\n') + 1 || text.length);
    const end = text.lastIndexOf('\n') + 1;
    this.partial = text.slice(end);
    // Output cut short by the transport's cap: the next read starts a fresh window rather than guess.
    this.at = truncated ? undefined : { inode: chunk.inode, offset: chunk.size };
    return text.slice(0, end);
  }
}
