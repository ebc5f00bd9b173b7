/**
 * A run at a glance in the real Temporal Web UI (the pinned CLI's dev server), no lab needed: `statusCheck`
 * started through the one start path as an alert would start it, run by the real workflow code with fake
 * activities (one relay check finds a problem). The workflows list and the run's page show its static
 * summary (runbook, target, who started it), "Summary & Details" its static details, and the step table in
 * Current Details shows legible text marks ([ok], [PROBLEM]) rather than emoji that need a font.
 * Screenshots go to test-results/ui/ (names starting `summary-`).
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunbookReport } from '../../src/shared/types.js';
import { startRunbook } from '../../src/temporal/start-run.js';
import { WORKFLOWS_PATH } from '../../src/worker.js';
import { pollUntil, screenshot, within } from '../helpers/ui.js';
import { UiStack } from '../helpers/ui-stack.js';
import { fakeActivities, fakePlan, type FakeTarget } from '../workflows/fake-activities.js';

const UI_WAIT = 30_000;
const TARGET = `ui-${randomUUID().slice(0, 8)}`;
const taskQueue = `ui-summary-${randomUUID()}`;
const SUMMARY = `statusCheck on ${TARGET} (started by alert SmtpRelayDown (fingerprint 5eed))`;

const stack = new UiStack();
let page: Page;
let client: Client;

const target: FakeTarget = {
  plan: fakePlan(TARGET, {}),
  calls: [],
  world: {
    mailLogTail: {
      ok: true,
      summary: 'last 40 log lines: 12 sent, 0 deferred, 0 bounced',
      evidence: { lines: [], sent: 12, deferred: 0, bounced: 0, unparsed: 0 },
    },
    relayLogs: {
      ok: false,
      summary: 'relay error log: 2 lines, last: connect to relay.lab.test:2526: Connection refused',
      evidence: { log: [], errorLog: ['connection refused', 'connection refused'] },
    },
  },
};

beforeAll(async () => {
  await stack.start('ui-summary', UI_WAIT, (connection) =>
    Worker.create({
      connection,
      taskQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities: fakeActivities(new Map([[TARGET, target]])),
    }),
  );
  ({ page, client } = stack);
});

afterAll(() => stack.stop());

/** The UI's sandboxed markdown frame that shows `text` (polled, bounded by UI_WAIT). */
async function frameWith(p: Page, text: string): Promise<Frame> {
  return pollUntil(UI_WAIT, `a frame showing "${text}"`, async () => {
    for (const frame of p.frames()) {
      if (
        frame !== p.mainFrame() &&
        (await frame
          .getByText(text)
          .count()
          .catch(() => 0)) > 0
      )
        return frame;
    }
    return undefined;
  });
}

describe('Temporal Web UI: a run at a glance', () => {
  it('shows the static summary and details, and the step marks as text', async ({ onTestFailed }) => {
    onTestFailed(async () => {
      await screenshot(page, 'summary-99-failure').catch(() => undefined);
    });
    const run = await startRunbook(client, {
      runbook: 'statusCheck',
      target: TARGET,
      trigger: { kind: 'alert', ref: '5eed', routingKey: `statusCheck/${TARGET}` },
      startedBy: 'alert SmtpRelayDown (fingerprint 5eed)',
      taskQueue,
    });
    const report = (await within(
      UI_WAIT,
      'the run',
      client.workflow.getHandle(run.workflowId).result(),
    )) as RunbookReport;
    expect(report.verdict, report.cause).toBe('needs-human');
    const ui = stack.uiUrl;

    // 1. The run's page, User Metadata: the summary (what ran where, who started it) and the details. The UI
    // renders each in its own sandboxed frame.
    await page.goto(`${ui}/namespaces/default/workflows/${encodeURIComponent(run.workflowId)}`);
    await page.getByRole('heading', { name: run.workflowId }).waitFor();
    await page.getByRole('tab', { name: /User Metadata/ }).click();
    await page.getByRole('heading', { name: 'Summary', exact: true }).waitFor();
    await frameWith(page, SUMMARY);
    const details = await frameWith(page, 'read-only status of the mail server, queue, logs and relay');
    expect(await details.locator('table').innerText()).toMatch(
      /started by\s+alert SmtpRelayDown \(fingerprint 5eed\)\s+trigger\s+an alert/,
    );

    // 2. Current Details: the step table with a text mark per step, legible without any emoji font.
    const current = await frameWith(page, 'Verdict: needs-human');
    const rows = current.locator('table tr');
    const marks = (await rows.allInnerTexts()).slice(1).map((row) => row.split('\t')[0]?.trim());
    expect(marks).toEqual(['[ok]', '[ok]', '[ok]', '[ok]', '[ok]', '[ok]', '[PROBLEM]']);
    await screenshot(page, 'summary-01-user-metadata');
  });
});
