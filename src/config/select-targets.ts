/**
 * Which targets a fleet runs on, from the config: `all`, `label=<key>=<value>` (every target with that label),
 * or a comma list of target names. An empty selection, or a name not in the config, is an error naming what
 * exists, so a typo never runs a fleet on nothing or on the wrong targets.
 */
/** What selecting reads of the config (config rules pass their tolerant view of it). */
export interface SelectableTargets {
  targets: ReadonlyArray<{ name: string; labels?: Readonly<Record<string, string>> }>;
}

export function selectTargets(config: SelectableTargets, selection: string): string[] {
  const names = config.targets.map((t) => t.name);
  if (selection === 'all') return names;
  const label = /^label=([^=]+)=(.+)$/.exec(selection);
  if (label) {
    const [, key, value] = label as unknown as [string, string, string];
    const picked = config.targets.filter((t) => t.labels?.[key] === value).map((t) => t.name);
    if (picked.length === 0) {
      const known = [
        ...new Set(
          config.targets.flatMap((t) => Object.entries(t.labels ?? {}).map(([k, v]) => `${k}=${v}`)),
        ),
      ];
      throw new Error(
        `no target has the label ${key}=${value}; labels in the config: ${known.length > 0 ? known.join(', ') : '(none)'}`,
      );
    }
    return picked;
  }
  if (selection.startsWith('label=')) throw new Error(`--targets ${selection}: write label=<key>=<value>`);
  const wanted = selection
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = wanted.filter((n) => !names.includes(n));
  if (wanted.length === 0 || unknown.length > 0)
    throw new Error(
      `--targets ${selection}: ${unknown.length > 0 ? `no target named ${unknown.join(', ')}` : 'no target named'}; the config has: ${names.join(', ')} (or use all, or label=<key>=<value>)`,
    );
  return [...new Set(wanted)];
}
