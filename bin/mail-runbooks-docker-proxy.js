#!/usr/bin/env node
// The Docker socket proxy of deploy/compose.yaml (src/deploy/docker-proxy.ts): exec in one container only.
import process from 'node:process';
import { loadEntry } from './load-entry.js';

const { runDockerProxy } = await loadEntry('deploy/docker-proxy');
runDockerProxy().catch((err) => {
  process.stderr.write(`docker-proxy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
