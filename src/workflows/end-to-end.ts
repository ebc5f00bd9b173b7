/**
 * End-to-end verification: a canary with a unique token goes in through authenticated submission and is
 * followed to delivery (the mail log's `status=sent` through the expected relay, and the canary mailbox when
 * one is configured). Other runbooks end with the same steps (steps.ts).
 */
import { defineRunbook } from './engine/define.js';
import { verifyEndToEnd } from './steps.js';

export const endToEndVerification = defineRunbook('endToEndVerification', async (run) => {
  const e2e = await verifyEndToEnd(run);
  return e2e.ok
    ? { verdict: 'healthy', cause: 'a canary was accepted and delivered end to end' }
    : { verdict: 'failed', cause: e2e.summary };
});
