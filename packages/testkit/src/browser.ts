// A real browser for the dashboard's tests: Debian's chromium (installed when missing, see
// scripts/lib/browser.mjs) driven by playwright-core; every page keeps the errors its console
// and its scripts report, so that a test can say a page has none.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, ensureChromium } from '../../../scripts/lib/browser.mjs';
import { ROOT } from './system.js';

/** Where the screenshots of a test run go (git ignores test-results/). */
export const SCREENSHOTS_DIR = join(ROOT, 'test-results', 'dashboard');

/**
 * Why the browser tests cannot run here (chromium missing and not installable: not root), in one
 * line, or undefined when they can; installs chromium when it can. A failed install throws.
 */
export function browserUnavailable(): string | undefined {
  try {
    ensureChromium();
    return undefined;
  } catch (err) {
    if ((err as { prerequisite?: boolean }).prerequisite) return (err as Error).message;
    throw err;
  }
}

/** Launches headless chromium; throws a PrerequisiteError (one line) when it cannot be installed. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = ensureChromium();
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
}

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught exceptions since the page was opened. */
  errors: string[];
}

/** A new page in `context` whose console errors and page errors are recorded. */
export async function watchedPage(context: BrowserContext): Promise<WatchedPage> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
  return { page, errors };
}

/** Saves a full-page screenshot as <name>.png in SCREENSHOTS_DIR; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  const path = join(SCREENSHOTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
