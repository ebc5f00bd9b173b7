/** `npm run temporal:ensure`: finds or builds the pinned Temporal CLI and prints its path. */
import { ensureTemporalBinary } from './binary.js';

ensureTemporalBinary()
  .then((found) => console.log(`${found.path} (${found.source})`))
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
