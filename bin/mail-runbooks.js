#!/usr/bin/env node
// The operator CLI (src/client.ts), in this process: no second process to forward signals and exit codes to.
import process from 'node:process';
import { loadEntry } from './load-entry.js';

const { main } = await loadEntry('client');
await main(process.argv);
