/** Bounded polling for tests. */
/** Polls `probe` until it returns a value (errors count as "not yet"), for at most `ms`. */
export async function pollUntil<T>(
  ms: number,
  what: string,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${ms} ms: ${what}${cause}`);
}
