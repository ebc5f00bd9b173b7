/** Evidence is kept in workflow history: it must stay small whatever the command printed. */
export const MAX_EVIDENCE_CHARS = 8_000;

export function boundEvidence(evidence: unknown, maxChars = MAX_EVIDENCE_CHARS): unknown {
  if (evidence === undefined) return undefined;
  const text = JSON.stringify(evidence);
  if (text === undefined || text.length <= maxChars) return evidence;
  return { truncated: true, originalChars: text.length, preview: text.slice(0, maxChars) };
}
