/**
 * Bounded "top K" counting (Misra-Gries): at most `capacity` keys are held whatever the number of
 * distinct keys. While the distinct keys fit, counts are exact; past that, each reported count is a lower
 * bound that is at most `maxUndercount` below the true count, and every key with a true share above
 * total/(capacity+1) is guaranteed to be held. Amortised O(1) per add.
 */
export interface TopEntry {
  readonly key: string;
  readonly count: number;
}

export interface TopList {
  readonly top: readonly TopEntry[];
  /** Everything not in `top` (total minus the listed counts). */
  readonly otherCount: number;
  /** True when no key was ever dropped: counts are exact. */
  readonly exact: boolean;
  /** Upper bound on how far any listed count may be below the true count (0 when exact). */
  readonly maxUndercount: number;
}

/** A held key's count, boxed so that counting a held key is one map lookup, not a get and a set. */
interface Held {
  count: number;
}

export class HeavyHitters {
  private readonly counts = new Map<string, Held>();
  private decrements = 0;
  private total = 0;

  /** `onEvict` is told each key that is dropped, so callers can keep per-key data for held keys only. */
  constructor(
    private readonly capacity: number,
    private readonly onEvict?: (key: string) => void,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
  }

  add(key: string): void {
    this.total++;
    const held = this.counts.get(key);
    if (held !== undefined) {
      held.count++;
      return;
    }
    if (this.counts.size < this.capacity) {
      this.counts.set(key, { count: 1 });
      return;
    }
    // Full: the new key and every held key lose one; keys that reach zero make room.
    this.decrements++;
    for (const [k, v] of this.counts) {
      if (v.count <= 1) {
        this.counts.delete(k);
        this.onEvict?.(k);
      } else v.count--;
    }
  }

  has(key: string): boolean {
    return this.counts.has(key);
  }

  get size(): number {
    return this.counts.size;
  }

  top(k: number): TopList {
    const top = [...this.counts]
      .map(([key, held]): [string, number] => [key, held.count])
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, k)
      .map(([key, count]) => ({ key, count }));
    const listed = top.reduce((s, e) => s + e.count, 0);
    return {
      top,
      otherCount: this.total - listed,
      exact: this.decrements === 0,
      maxUndercount: this.decrements,
    };
  }
}
