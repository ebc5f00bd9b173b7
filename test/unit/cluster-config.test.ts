/** `npm run cluster`'s pure parts: the ports that follow the frontend's, the server config, the settings. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  clusterPaths,
  DEFAULT_CLUSTER_SETTINGS,
  loadSettings,
  serverConfigYaml,
  servicePorts,
} from '../../src/temporal/cluster.js';

describe('cluster settings', () => {
  it("with frontend 7233 the services get Temporal's own default ports; others move with it", () => {
    expect(servicePorts(7233)).toEqual({
      frontend: { grpc: 7233, membership: 6933, http: 7243 },
      history: { grpc: 7234, membership: 6934 },
      matching: { grpc: 7235, membership: 6935 },
      worker: { grpc: 7239, membership: 6939 },
    });
    expect(servicePorts(30000).history).toEqual({ grpc: 30001, membership: 29701 });
  });

  it('the server config listens on loopback only, with the password quoted and the ports given', () => {
    const yaml = serverConfigYaml(
      { port: 30000, pgPort: 41000, namespace: 'x' },
      'pa"ss:#word',
      '/c/dynamicconfig.yaml',
    );
    expect(yaml).toContain('password: "pa\\"ss:#word"');
    expect(yaml).toContain('connectAddr: "127.0.0.1:41000"');
    expect(yaml.match(/bindOnLocalHost: true/g)).toHaveLength(4);
    expect(yaml).toContain('grpcPort: 30000');
    expect(yaml).toContain('rpcAddress: "127.0.0.1:30000"');
    expect(yaml).toContain('filepath: "/c/dynamicconfig.yaml"');
    expect(yaml).not.toMatch(/0\.0\.0\.0|localhost/);
  });

  it('flags override the last up, which overrides the defaults', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mrb-cluster-unit-'));
    try {
      const paths = clusterPaths(dir);
      expect(await loadSettings(paths)).toEqual(DEFAULT_CLUSTER_SETTINGS);
      await writeFile(paths.settings, JSON.stringify({ port: 30000, namespace: 'saved' }));
      expect(await loadSettings(paths, { namespace: 'given', pgPort: undefined })).toEqual({
        port: 30000,
        pgPort: DEFAULT_CLUSTER_SETTINGS.pgPort,
        namespace: 'given',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
