/** Reads of a growing file strung together (parsers/file-from.ts): whole lines, each once. */
import { describe, expect, it } from 'vitest';
import { FileFollower, parseFileChunk, ParseError } from '../../src/parsers/index.js';

describe('FileFollower', () => {
  it('continues where the previous read stopped and holds an unfinished line back', () => {
    const f = new FileFollower();
    expect(f.position).toBeUndefined();
    expect(f.add('7 0 10\none\ntwo\n')).toBe('one\ntwo\n');
    expect(f.position).toEqual({ inode: '7', offset: 10 });
    expect(f.add('7 10 18\nthree\nfo')).toBe('three\n');
    expect(f.add('7 18 21\nur\n')).toBe('four\n');
    expect(f.add('7 21 21\n')).toBe('');
  });

  it('drops the cut first line of a fresh window (a new file, or a gap), and what was held back', () => {
    const f = new FileFollower();
    expect(f.add('7 40 52\nut line\nnew\n')).toBe('new\n');
    f.add('7 52 55\npar');
    // Rotated: another inode; its window starts at 0, so its first line is whole.
    expect(f.add('8 0 6\nnext\n')).toBe('next\n');
    // A gap (more new bytes than a window): the read does not start where the last stopped.
    expect(f.add('8 90 99\nxx\nlater\n')).toBe('later\n');
  });

  it('starts a fresh window after output cut short by the transport', () => {
    const f = new FileFollower();
    f.add('7 0 10\none\ntwo\n', true);
    expect(f.position).toBeUndefined();
  });

  it('refuses output without its header', () => {
    expect(() => parseFileChunk('one\ntwo\n')).toThrow(ParseError);
    expect(() => parseFileChunk('7 11 10\n')).toThrow(/past the size/);
  });
});
