// Shared by the report tests: opens an HTML file in Debian's headless Chromium through
// playwright-core, collecting console errors and failed or attempted network requests.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function hasChromium(): boolean {
  return existsSync(CHROMIUM);
}

export interface OpenedPage {
  page: Page;
  consoleErrors: string[];
  /** Every request other than the file itself: a self-contained report makes none. */
  requests: string[];
  close(): Promise<void>;
}

export async function openInChromium(file: string, viewport = { width: 1100, height: 900 }): Promise<OpenedPage> {
  const profile = mkdtempSync(path.join(tmpdir(), 'a67r-chromium-'));
  // A fresh --user-data-dir per run: playwright takes it as launchPersistentContext's folder.
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      viewport,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  const url = `file://${path.resolve(file)}`;
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
  return {
    page,
    consoleErrors,
    requests,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
