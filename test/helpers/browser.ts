/** Shared setup of the Chromium browser tests (Debian chromium driven by playwright-core). */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A skip reason for node:test when Chromium is missing, else false. */
export const chromiumSkip: string | false = existsSync(CHROMIUM)
  ? false
  : `Chromium not found at ${CHROMIUM}; install it with "apt-get update && apt-get install -y chromium" to run the browser tests`;

/** The context's first page, with every console error or warning and page error collected into `problems`. */
export async function watchedPage(ctx: BrowserContext): Promise<{ page: Page; problems: string[] }> {
  const problems: string[] = [];
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return { page, problems };
}

/** Launches headless Chromium with a fresh profile folder (inside `work`), or null without playwright-core. */
export async function launchChromium(work: string): Promise<BrowserContext | null> {
  let pw: typeof import('playwright-core');
  try {
    pw = await import('playwright-core');
  } catch {
    return null;
  }
  const ctx = await pw.chromium.launchPersistentContext(mkdtempSync(join(work, 'profile-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  // CSP violations are reported as console errors, which the tests collect.
  await ctx.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));`,
  });
  return ctx;
}

/**
 * Chromium with its watched first page; without playwright-core the test is skipped and `work` removed
 * (null is returned). The caller closes `ctx` and removes `work`.
 */
export async function openWatchedPage(
  t: { skip(message?: string): void },
  work: string,
): Promise<{ ctx: BrowserContext; page: Page; problems: string[] } | null> {
  const ctx = await launchChromium(work);
  if (!ctx) {
    rmSync(work, { recursive: true, force: true });
    t.skip('playwright-core is not installed');
    return null;
  }
  return { ctx, ...(await watchedPage(ctx)) };
}

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Polls a page expression until it is truthy (page.evaluate is not subject to the page's CSP). */
export async function waitFor(
  page: { evaluate(expr: string): Promise<unknown>; waitForTimeout(ms: number): Promise<void> },
  expr: string,
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate(expr))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${expr}`);
    await page.waitForTimeout(30);
  }
}

/** An expression reading attribute `name` of the first element matching `sel` (null when absent). */
export const attr = (sel: string, name: string): string =>
  `(() => { const e = document.querySelector(${JSON.stringify(sel)}); return e ? e.getAttribute(${JSON.stringify(name)}) : null; })()`;
