/**
 * The approval flow a person follows in the real Temporal Web UI (the one the pinned CLI's dev server
 * serves, UI 2.42), against the lab with the real worker: with the lab's `ssh-key-perms` fault injected,
 * start `queueBacklog` from the UI's start-workflow form with input `{}` (the default target), see it wait
 * for approval of the key fix in its Current Details, approve it with the `approve` Signal from the
 * workflow page, and see it complete `fixed`.
 * The client double-checks each stage. Screenshots of every stage go to test-results/ui/.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusQuery } from '../../src/shared/messages.js';
import type { RunbookReport } from '../../src/shared/types.js';
import { fillJson, jsonEditor, pollUntil, resetScreenshots, screenshot, within } from '../helpers/ui.js';
import { UiStack } from '../helpers/ui-stack.js';
import { findFault, healFault, injectFault } from '../../src/lab/faults.js';
import { createWorker } from '../../src/worker.js';
import { ensureLab, inLab, type Lab } from '../helpers/lab.js';

const UI_WAIT = 30_000;
const taskQueue = `ui-${randomUUID()}`;
const workflowId = `ui-approve-${randomUUID().slice(0, 8)}`;
const KEY = '/home/cloudrelay/.ssh/id_rsa';
let lab: Lab;

const stack = new UiStack();
let client: Client;
let page: Page;

beforeAll(async () => {
  await resetScreenshots();
  lab = await ensureLab();
  process.env.MRB_CONFIG = lab.up.config;
  await injectFault(lab.ctx, findFault('ssh-key-perms'));
  // The real worker: the runbooks and their activities, the lab's target config (an hour to decide).
  await stack.start('ui', UI_WAIT, (connection) => createWorker(connection, 'default', { taskQueue }));
  ({ page, client } = stack);
});

afterAll(() =>
  // Each part is torn down even if an earlier one fails to stop.
  stack.stop([['lab fault', () => (lab ? healFault(lab.ctx, findFault('ssh-key-perms')) : undefined)]]),
);

describe('Temporal Web UI', () => {
  it('starts a runbook from the UI, shows it awaiting approval, approves it by Signal and shows it completed', async ({
    onTestFailed,
  }) => {
    onTestFailed(async () => {
      await screenshot(page, '99-failure').catch(() => undefined);
    });
    const ui = stack.uiUrl;

    // 1. The workflows list offers "Start Workflow" (the dev server does not disable it).
    await page.goto(`${ui}/namespaces/default/workflows`);
    const startButton = page.getByRole('button', { name: 'Start Workflow' });
    await startButton.waitFor();
    await screenshot(page, '01-workflows-list');
    await startButton.click();

    // 2. The start form: id, task queue (the UI confirms a worker polls it), type and JSON input.
    await page.getByRole('heading', { name: 'Start a Workflow' }).waitFor();
    await page.getByLabel('Workflow ID', { exact: true }).fill(workflowId);
    await page.getByLabel('Task Queue', { exact: true }).fill(taskQueue);
    await page.getByLabel('Workflow Type', { exact: true }).fill('queueBacklog');
    expect(await fillJson(page, jsonEditor(page), {})).toEqual({});
    await page.getByText('Task Queue is Active').waitFor();
    await screenshot(page, '02-start-form');
    await page.getByRole('button', { name: 'Start Workflow' }).click();
    await page.getByText('Workflow started successfully').waitFor();
    await screenshot(page, '03-started');

    // 3. The run exists, found the loose key and now waits for approval of its fix (asked the client too).
    const handle = client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    expect(description.type).toBe('queueBacklog');
    expect(description.taskQueue).toBe(taskQueue);
    const status = await pollUntil(UI_WAIT, 'the run to await approval', async () => {
      const s = await handle.query(statusQuery);
      return s.pending ? s : undefined;
    });
    expect(status.pending?.step).toBe('fix-relay-key-permissions');
    expect(status.pending?.reason).toMatch(/mode 0644 lets group or others access it/);
    expect(status.target).toBe('lab');

    // 4. The workflow page shows it Running; User Metadata → Current Details renders setCurrentDetails
    // (markdown, in a sandboxed iframe titled "output").
    await page.goto(`${ui}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
    await page.getByRole('heading', { name: workflowId }).waitFor();
    await page.getByText('Running', { exact: true }).filter({ visible: true }).first().waitFor();
    await page.getByRole('tab', { name: /User Metadata/ }).click();
    const details = page.getByTitle('output').contentFrame();
    await details.getByRole('heading', { name: /Awaiting approval:\s*fix-relay-key-permissions/ }).waitFor();
    await details.getByText('Current step: relay-key-permissions').waitFor();
    await screenshot(page, '04-awaiting-approval');

    // 5. More Actions → Send a Signal → `approve` (the UI lists the workflow's signals) with the decision.
    await page.getByRole('button', { name: 'More Actions' }).click();
    await page.getByRole('menuitem', { name: 'Send a Signal' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send a Signal' });
    await dialog.getByRole('button', { name: 'Select a signal' }).click();
    await dialog.getByRole('option', { name: 'approve', exact: true }).click();
    // The decision names the request the details show (the lab lets unsigned decisions count).
    const decision = {
      request: status.pending!.requestId,
      by: 'ui-test',
      comment: 'approved in the browser',
    };
    expect(await fillJson(page, jsonEditor(dialog), decision)).toEqual(decision);
    await screenshot(page, '05-signal-dialog');
    await dialog.getByRole('button', { name: 'Submit' }).click();
    await page.getByText('Workflow signaled.').waitFor();

    // 6. The page updates itself to Completed; the final Current Details shows the verdict and decision.
    await page
      .getByText('Completed', { exact: true })
      .filter({ visible: true })
      .first()
      .waitFor({ timeout: 60_000 });
    await page.getByRole('tab', { name: /History/ }).click();
    await page.getByText('Workflow Execution Completed').filter({ visible: true }).first().waitFor();
    await screenshot(page, '06-completed');
    await page.getByRole('tab', { name: /User Metadata/ }).click();
    const finalDetails = page.getByTitle('output').contentFrame();
    await finalDetails.getByText(/Verdict: fixed/).waitFor();
    // The step table's marks are text (emoji showed as empty boxes without an emoji font).
    await finalDetails.getByRole('cell', { name: '[ok]', exact: true }).first().waitFor();
    await finalDetails
      .getByText(/approved by ui-test \(signal, unsigned\): approved in the browser/)
      .waitFor();
    await screenshot(page, '07-final-details');

    const report = (await within(UI_WAIT, 'the workflow result', handle.result())) as RunbookReport;
    expect(report.verdict).toBe('fixed');
    expect(report.decisions).toHaveLength(1);
    expect(report.decisions[0]).toMatchObject({
      step: 'fix-relay-key-permissions',
      approved: true,
      by: 'ui-test',
      comment: 'approved in the browser',
      via: 'signal',
      authentication: 'unsigned',
    });
    expect((await inLab(lab, 'mailserver', ['stat', '-c', '%a', KEY])).stdout.trim()).toBe('600');
  });
});
