import { describe, expect, it } from 'vitest';
import { selectTargets } from '../../src/config/select-targets.js';
import type { Config } from '../../src/config/schema.js';

const config = {
  targets: [
    { name: 'eu-1', labels: { site: 'eu', tier: 'canary' } },
    { name: 'eu-2', labels: { site: 'eu' } },
    { name: 'us-1', labels: { site: 'us' } },
  ],
} as unknown as Config;

describe('fleet target selection', () => {
  it('picks all, by label, or by name', () => {
    expect(selectTargets(config, 'all')).toEqual(['eu-1', 'eu-2', 'us-1']);
    expect(selectTargets(config, 'label=site=eu')).toEqual(['eu-1', 'eu-2']);
    expect(selectTargets(config, 'label=tier=canary')).toEqual(['eu-1']);
    expect(selectTargets(config, 'us-1, eu-2,us-1')).toEqual(['us-1', 'eu-2']);
  });

  it('refuses a selection that picks nothing or names an unknown target, saying what exists', () => {
    expect(() => selectTargets(config, 'label=site=asia')).toThrow(
      'no target has the label site=asia; labels in the config: site=eu, tier=canary, site=us',
    );
    expect(() => selectTargets(config, 'eu-1,eu-3')).toThrow(
      /no target named eu-3; the config has: eu-1, eu-2, us-1/,
    );
    expect(() => selectTargets(config, ',')).toThrow(/--targets ,/);
    expect(() => selectTargets(config, 'label=site')).toThrow('write label=<key>=<value>');
  });
});
