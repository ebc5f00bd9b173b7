/**
 * postsuper's report (stderr): one "postsuper: <id>: placed on hold" line per message, then one total per
 * operation, "postsuper: Placed on hold: 3 messages". Ids that are no longer queued are skipped silently,
 * so the totals, not the ids asked for, say what changed.
 */
export interface PostsuperCounts {
  held: number;
  released: number;
  deleted: number;
  requeued: number;
}

const TOTALS: ReadonlyArray<[RegExp, keyof PostsuperCounts]> = [
  [/^postsuper: Placed on hold: (\d+) messages?$/, 'held'],
  [/^postsuper: Released from hold: (\d+) messages?$/, 'released'],
  [/^postsuper: Deleted: (\d+) messages?$/, 'deleted'],
  [/^postsuper: Requeued: (\d+) messages?$/, 'requeued'],
];

export function parsePostsuperTotals(output: string): PostsuperCounts {
  const counts: PostsuperCounts = { held: 0, released: 0, deleted: 0, requeued: 0 };
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    for (const [pattern, key] of TOTALS) {
      const m = pattern.exec(line);
      if (m) counts[key] += Number(m[1]);
    }
  }
  return counts;
}
