/**
 * Debian's Chromium driven by playwright-core, headless, with a fresh profile and no background
 * network traffic, looking at 1024x600 (the touch panel's size).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve(new URL('../..', import.meta.url).pathname, 'test-results', 'hmi');

export interface Panel {
  context: BrowserContext;
  page: Page;
  /** Requests the page made to anything but the workcell servers. */
  outsideRequests: string[];
  consoleErrors: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openPanel(url: string): Promise<Panel> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (.ci/setup.d/30-chromium.sh does) or set CHROMIUM_PATH`);
  }
  const profile = mkdtempSync(path.join(tmpdir(), 'workcell-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1024, height: 600 },
    // --disable-dev-shm-usage: containers often give /dev/shm only 64 MB.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const origin = new URL(url);
  const outsideRequests: string[] = [];
  const consoleErrors: string[] = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.hostname !== origin.hostname) outsideRequests.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.goto(url);
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    context,
    page,
    outsideRequests,
    consoleErrors,
    async screenshot(name) {
      const file = path.join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Wait until the element's text matches. */
export async function waitText(page: Page, selector: string, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  try {
    await page.waitForFunction(
      ([sel, source, flags]) => new RegExp(source!, flags).test(document.querySelector(sel!)?.textContent ?? ''),
      [selector, pattern.source, pattern.flags] as const,
      { timeout: timeoutMs, polling: 50 },
    );
  } catch {
    const shown = await page.locator(selector).textContent().catch(() => '(absent)');
    throw new Error(`${selector} never matched ${pattern} (it shows ${JSON.stringify(shown)})`);
  }
  return (await page.locator(selector).textContent()) ?? '';
}
