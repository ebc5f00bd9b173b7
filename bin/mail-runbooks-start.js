#!/usr/bin/env node
// What `npm start` runs (src/main.ts): the worker, the schedules and the alert receiver, and the local
// Temporal dev server unless TEMPORAL_ADDRESS names a cluster. The module runs when loaded.
import { loadEntry } from './load-entry.js';

await loadEntry('main');
