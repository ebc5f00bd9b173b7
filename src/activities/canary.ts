/** End-to-end canary, leg 1: authenticated submission; acceptance is the queue id in the 250 reply. */
import { submitCanary } from '../mail/submission.js';
import type { StepOutcome } from '../shared/types.js';
import { secret, targetConfig } from './context.js';
import { outcome } from './outcome.js';
import { heartbeating } from './wait.js';

export interface CanaryAcceptance {
  queueId: string;
  acceptanceMs: number;
  response: string;
  submission: string;
}

export async function sendCanary(targetName: string, token: string): Promise<StepOutcome<CanaryAcceptance>> {
  const target = await targetConfig(targetName);
  const { submission, from, to } = target.canary;
  const where = `${submission.host}:${submission.port} (${submission.tls})`;
  try {
    const ca = submission.ca && (await secret(submission.ca));
    const password = await secret(submission.password);
    // Runs as a verification step, whose policy has a heartbeat timeout shorter than SMTP's own timeouts.
    const accepted = await heartbeating(() =>
      submitCanary(
        {
          host: submission.host,
          port: submission.port,
          tls: submission.tls,
          ca,
          servername: submission.servername,
          user: submission.user,
          password,
        },
        { from, to, token },
      ),
    );
    return outcome(
      true,
      `canary accepted by ${where} as ${accepted.queueId} in ${accepted.acceptanceMs} ms`,
      {
        queueId: accepted.queueId,
        acceptanceMs: accepted.acceptanceMs,
        response: accepted.response,
        submission: where,
      },
    );
  } catch (err) {
    // Submission refused is a finding about the target (leg 1 broke), not a reason to retry blindly.
    return outcome(false, `submission leg failed at ${where}: ${(err as Error).message}`, {
      queueId: '',
      acceptanceMs: -1,
      response: (err as { response?: string }).response ?? '',
      submission: where,
    });
  }
}
