/**
 * Browser helpers for the UI tests: Debian's chromium driven by playwright-core (no browser downloads),
 * screenshots under test-results/ui, bounded waits, and typing into the Web UI's CodeMirror JSON editors.
 */
import { access, constants, mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const SCREENSHOT_DIR = join(projectRoot, 'test-results', 'ui');
export const CHROMIUM_PATH = process.env.MRB_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Headless chromium with a fresh profile (Playwright's `launch` makes a temporary user data dir and
 * deletes it on close) and nothing that phones home.
 */
export async function launchChromium(): Promise<Browser> {
  try {
    await access(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(
      `No chromium at ${CHROMIUM_PATH}: apt-get install -y --no-install-recommends chromium, or set MRB_CHROMIUM.`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    timeout: 60_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Empties the screenshot folder so a run never shows pictures from an earlier one. */
export async function resetScreenshots(): Promise<void> {
  await rm(SCREENSHOT_DIR, { recursive: true, force: true });
  await mkdir(SCREENSHOT_DIR, { recursive: true });
}

/** Saves a full-page screenshot as test-results/ui/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  // Animations finished, so a toast that is sliding in is shown where it lands.
  await page.screenshot({ path, fullPage: true, animations: 'disabled', timeout: 30_000 });
  return path;
}

/** Rejects with `what` if the promise has not settled within `ms`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export { pollUntil } from './poll.js';

/**
 * The UI's payload editor inside `scope`: a CodeMirror editor, i.e. the one editable multi-line textbox
 * (the plain inputs are textboxes too, but not contenteditable).
 */
export function jsonEditor(scope: Page | Locator): Locator {
  return scope.getByRole('textbox').and(scope.locator('[contenteditable="true"]'));
}

/**
 * Puts `value` as JSON into a CodeMirror editor and blurs it. insertText is one input event, so the
 * editor's bracket auto-closing does not double anything. The UI pretty-prints on blur, which moves the
 * buttons below; blurring here (not by clicking the submit button) keeps that re-layout out of the click.
 * Returns what the editor then holds, parsed.
 */
export async function fillJson(page: Page, editor: Locator, value: unknown): Promise<unknown> {
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText(JSON.stringify(value));
  await editor.blur();
  return JSON.parse(await editor.innerText()) as unknown;
}

/** Runs every teardown step, even after one fails, then throws one error naming each that failed. */
export async function teardownSteps(steps: [string, () => Promise<unknown> | undefined][]): Promise<void> {
  const problems: string[] = [];
  for (const [name, stop] of steps) {
    try {
      await stop();
    } catch (err) {
      problems.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (problems.length) throw new Error(`teardown problems:\n${problems.join('\n')}`);
}
