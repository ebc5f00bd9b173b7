/** Loads the non-secret settings of a target that a run needs (thresholds, approval policy, flavours). */
import type { TargetPlan } from '../shared/types.js';
import { targetConfig } from './context.js';

export async function loadTargetPlan(target?: string): Promise<TargetPlan> {
  const t = await targetConfig(target);
  return {
    target: t.name,
    mailServerKind: t.mailServer.kind,
    relayFlavour: t.relay.flavour,
    relayPort: t.relay.port,
    thresholds: { ...t.thresholds },
    approval: { ...t.approval, unattended: [...t.approval.unattended] },
    canaryConfigured: true,
    imapConfigured: t.canary.imap !== undefined,
  };
}
