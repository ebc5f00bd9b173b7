/** Long phases say what they are doing and for how long: "lab: building mrb-lab/mail:latest (45 s)". */

export const PROGRESS_INTERVAL_MS = 15_000;

/**
 * Runs `work`, logging `<label> (<elapsed> s)` every `intervalMs` until it settles. `label` may be a function
 * to show the current sub-step (e.g. the Dockerfile step being built).
 */
export async function withProgress<T>(
  log: (line: string) => void,
  label: string | (() => string),
  work: () => Promise<T>,
  intervalMs = PROGRESS_INTERVAL_MS,
): Promise<T> {
  const started = Date.now();
  const ticker = setInterval(() => {
    const text = typeof label === 'function' ? label() : label;
    log(`${text} (${Math.round((Date.now() - started) / 1000)} s)`);
  }, intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(ticker);
  }
}
