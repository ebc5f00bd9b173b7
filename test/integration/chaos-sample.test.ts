/**
 * The chaos sample (`npm run chaos -- --sample`) in the integration suite, so CI runs it: the worker is
 * SIGKILLed just after relayUnresponsive's restart command returned, and the Temporal dev server is
 * kill -9'd during queueBacklog's approval wait and during startStop's `supervisorctl stop` of the relay,
 * and restarted on the same SQLite file. Each run must end
 * `fixed` with each remediation exactly once, counted from the lab's own logs (test/chaos/). The full
 * matrix is `npm run chaos`.
 */
import { describe, expect, it } from 'vitest';
import { table } from '../chaos/harness.js';
import { chaosCases, runChaos } from '../chaos/run.js';

describe('chaos sample', () => {
  it('kills the worker inside an action, the server in an approval wait and in an action: right verdicts, each remediation once', async () => {
    const results = await runChaos(chaosCases({ sample: true }));
    const rendered = table(results);
    console.log(rendered);
    expect(results.length).toBeGreaterThan(0);
    expect(
      results.filter((r) => !r.ok),
      rendered,
    ).toEqual([]);
  }, 600_000);
});
