import { expect } from 'vitest';
import type { RunbookReport } from '../../src/shared/types.js';
import { world } from '../workflows/engine-fixture-activities.js';

/** The engine fixture's run ended fixed, its repair ran once, and its one decision is this approval. */
export function expectApprovedRepair(
  report: RunbookReport,
  decision: { request: string; by: string; comment: string; via: string; authentication: string },
): void {
  expect(report.verdict).toBe('fixed');
  expect(world.repairs).toBe(1);
  expect(report.decisions).toMatchObject([{ step: 'repair', approved: true, ...decision }]);
}
