/** Files of the chaos harness that both the runner and its worker processes name. */
import { fileURLToPath } from 'node:url';

/** The chaos worker's workflow interceptor module (step-boundary kills). */
export const CHAOS_WORKFLOW_INTERCEPTORS = fileURLToPath(
  new URL('./workflow-interceptors.ts', import.meta.url),
);
