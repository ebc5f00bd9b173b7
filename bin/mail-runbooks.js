#!/usr/bin/env node
// The package's command: loads tsx's TypeScript hooks in this process, then runs src/client.ts. No build
// step, and no second process to forward signals and exit codes to.
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/client.ts');
await main(process.argv);
