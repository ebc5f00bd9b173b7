import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTemporalBinary } from '../../src/temporal/binary.js';
import { searchAttributeFlags } from '../../src/temporal/dev-server.js';
import { temporalTarget, usesExternalCluster } from '../../src/temporal/connection.js';

async function fakeBinary(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mrb-bin-'));
  const path = join(dir, 'temporal');
  await writeFile(path, '#!/bin/sh\necho fake\n');
  await chmod(path, 0o755);
  return path;
}

describe('finding the Temporal CLI', () => {
  it('prefers MRB_TEMPORAL_BIN, then PATH', async () => {
    const viaEnv = await fakeBinary();
    const viaPath = await fakeBinary();
    const pathDir = viaPath.replace(/\/temporal$/, '');
    expect(await findTemporalBinary({ MRB_TEMPORAL_BIN: viaEnv, PATH: pathDir })).toEqual({
      path: viaEnv,
      source: 'env',
    });
    expect(await findTemporalBinary({ PATH: pathDir })).toEqual({ path: viaPath, source: 'path' });
  });

  it('refuses an MRB_TEMPORAL_BIN that is not executable', async () => {
    await expect(findTemporalBinary({ MRB_TEMPORAL_BIN: '/nonexistent/temporal' })).rejects.toThrow(
      /not an executable/,
    );
  });
  // Neither a binary nor Go: test/unit/preflight.test.ts ('the Temporal CLI').
});

describe('which cluster', () => {
  it('uses the local dev server unless TEMPORAL_ADDRESS (or a profile) names another', () => {
    expect(usesExternalCluster({})).toBe(false);
    expect(temporalTarget({}).mode).toBe('local');
    expect(usesExternalCluster({ TEMPORAL_ADDRESS: 'temporal.example:7233' })).toBe(true);
  });

  it('registers every custom search attribute on the dev server', () => {
    expect(searchAttributeFlags()).toEqual(
      expect.arrayContaining([
        'MrbRunbook=Keyword',
        'MrbTarget=Keyword',
        'MrbStep=Keyword',
        'MrbAwaitingApproval=Bool',
      ]),
    );
  });
});

describe('an external cluster through envconfig', () => {
  it('takes address and namespace from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE', () => {
    const target = temporalTarget({
      TEMPORAL_ADDRESS: 'temporal.example.test:7233',
      TEMPORAL_NAMESPACE: 'mail-ops',
    });
    expect(target).toMatchObject({ mode: 'external', namespace: 'mail-ops' });
    expect(target.connectionOptions.address).toBe('temporal.example.test:7233');
  });
});
