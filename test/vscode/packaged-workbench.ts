/**
 * The end-to-end files' common setup: pack the extension as a .vsix, install it into a fresh code-server
 * serving a workspace the file prepares, open Chromium on it (node:test before/after hooks), and run each UI
 * test so that a failure leaves a screenshot named after it.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  installVsix,
  launchBrowser,
  openWorkbench,
  ROOT,
  runProcess,
  scratchDir,
  screenshot,
  startCodeServer,
  workbenchUrl,
  type CodeServer,
} from './harness';

export interface PackagedWorkbench {
  page: Page;
  cs: CodeServer;
  workspace: string;
}

export interface PackagedWorkbenchOptions {
  /** Screenshots go here (emptied first). */
  out: string;
  /** Prefix of the scratch folder. */
  prefix: string;
  /** A reason to skip every test (no code-server, no Python), or false. */
  skip: string | false;
  /** Fills the (empty) workspace folder before code-server opens it. */
  prepare(workspace: string): void;
  /** Called with the .vsix once it is built (to inspect what it holds). */
  packaged?(vsix: string): void;
  /** Called once the workbench is open, so the file can keep its own handles. */
  ready(w: PackagedWorkbench): void;
  /** Per-test timeout (node:test's default: none). */
  timeoutMs?: number;
  /** Which package to install (scripts/package.mjs --target): linux-x64 (native + wasm, the default) or universal (wasm only). */
  target?: 'linux-x64' | 'universal';
}

/** Registers the hooks; returns `uiTest(name, fn)` for the file's tests. */
export function usePackagedWorkbench(o: PackagedWorkbenchOptions): (name: string, fn: () => Promise<void>) => void {
  let cs: CodeServer | null = null;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | null = null;
  let page: Page | null = null;
  before(async () => {
    if (o.skip) return;
    rmSync(o.out, { recursive: true, force: true });
    mkdirSync(o.out, { recursive: true });
    const tmp = scratchDir(o.prefix);
    const workspace = join(tmp, 'ws');
    mkdirSync(workspace);
    o.prepare(workspace);
    const vsix = join(tmp, 'rnn-memory-lens.vsix');
    const target = o.target ?? 'linux-x64';
    await runProcess(process.execPath, [join(ROOT, 'scripts', 'package.mjs'), '--target', target, '--out', vsix], process.env, 120_000);
    o.packaged?.(vsix);
    const runDir = join(tmp, 'cs');
    mkdirSync(runDir);
    await installVsix(vsix, runDir, join(runDir, 'extensions'));
    cs = await startCodeServer({ runDir, workspace });
    browser = await launchBrowser();
    page = browser.page;
    await openWorkbench(page, workbenchUrl(cs, workspace));
    o.ready({ page, cs, workspace });
  });
  after(async () => {
    if (page) await screenshot(page, o.out, 'final.png').catch(() => undefined);
    await browser?.close();
    await cs?.stop();
  });
  return (name, fn) => {
    test(name, { skip: o.skip, ...(o.timeoutMs ? { timeout: o.timeoutMs } : {}) }, async () => {
      try {
        await fn();
      } catch (e) {
        if (page) await screenshot(page, o.out, `failed-${name.replace(/[^\w]+/g, '-').slice(0, 60)}.png`).catch(() => undefined);
        throw e;
      }
    });
  };
}
