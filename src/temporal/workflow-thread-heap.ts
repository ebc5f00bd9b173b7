/**
 * The workflow thread's young generation (issue 14, point 1: the worker's memory).
 *
 * Temporal runs workflow code in a worker thread: an isolate of its own, whose V8 young generation (two
 * semi-spaces of up to 16 MB each on 64-bit Node 20) grows as soon as a few scavenges find it busy and is
 * then kept. Workflow code allocates little (activations of a few kB), so its semi-spaces are capped at
 * WORKFLOW_THREAD_SEMI_SPACE_MB: about 14 MB less resident memory, at no measurable cost per workflow task
 * (npm run bench -- worker-memory; npm run bench -- orchestration).
 *
 * V8 reads the flag when it creates an isolate, so it takes effect only for threads started afterwards: the
 * worker's workflow thread (Worker.create starts it). The main thread's heap is already set up and keeps its
 * size: the activities' parsing of a large queue listing is faster with a full-sized young generation.
 */
import { setFlagsFromString } from 'node:v8';

export const WORKFLOW_THREAD_SEMI_SPACE_MB = 1;

/** Caps the young generation of the isolates created from now on (the workflow thread's). */
export function capWorkflowThreadYoungGeneration(): void {
  setFlagsFromString(`--max-semi-space-size=${WORKFLOW_THREAD_SEMI_SPACE_MB}`);
}
