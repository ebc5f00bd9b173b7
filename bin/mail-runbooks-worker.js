#!/usr/bin/env node
// The worker alone (src/worker.ts): every runbook and its activities, against TEMPORAL_ADDRESS.
import { loadEntry } from './load-entry.js';

const { runWorkerProcess } = await loadEntry('worker');
runWorkerProcess();
