/**
 * Drives a real VS Code (code-server 4.100.3, installed by scripts/e2e-setup.sh) in headless Debian
 * Chromium through playwright-core, as described in shared/docs/vscode-e2e-recipe.md. Every wait is
 * time-boxed with a message saying what did not happen; processes are started in their own process group
 * and killed as a group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Frame, Page } from 'playwright-core';

export const ROOT = join(__dirname, '..', '..');
export const CODE_SERVER = join(ROOT, '.e2e', 'code-server', 'node_modules', '.bin', 'code-server');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const EXTENSION_ID = 'rnn-memory-lens.rnn-memory-lens';

export function setupPresent(): boolean {
  return existsSync(CODE_SERVER) && existsSync(CHROMIUM);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs: number, intervalMs = 200): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A temporary folder removed at process exit (the tests own it). */
export function scratchDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  process.on('exit', () => {
    if (!process.env.RNN_MEMORY_KEEP_TMP) rmSync(d, { recursive: true, force: true });
  });
  return d;
}

const liveGroups = new Set<number>();
process.on('exit', () => {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export interface CodeServer {
  port: number;
  origin: string;
  runDir: string;
  logFile: string;
  proc: ChildProcess;
  stop(): Promise<void>;
  log(): string;
}

const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'files.simpleDialog.enable': true,
};

/** Workspace trust on, nothing trusted, no prompt: the folder opens in Restricted Mode. */
const RESTRICTED_SETTINGS = {
  'security.workspace.trust.enabled': true,
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.emptyWindow': false,
  'security.workspace.trust.untrustedFiles': 'open',
};

/** Installs a .vsix into `extensionsDir` (offline). */
export async function installVsix(vsix: string, runDir: string, extensionsDir: string): Promise<void> {
  const env = { ...process.env, XDG_CONFIG_HOME: join(runDir, 'xdg'), XDG_DATA_HOME: join(runDir, 'xdg-data') };
  const out = await runProcess(
    CODE_SERVER,
    ['--user-data-dir', join(runDir, 'user-data'), '--extensions-dir', extensionsDir, '--install-extension', vsix],
    env,
    60_000,
  );
  if (!/successfully installed/i.test(out)) throw new Error(`installing ${vsix} failed:\n${out}`);
}

export function runProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, cwd = ROOT): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const t = setTimeout(() => {
      try {
        process.kill(-p.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      reject(new Error(`${cmd} ${args.join(' ')} did not finish within ${timeoutMs / 1000} s:\n${out}`));
    }, timeoutMs);
    p.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    p.on('close', (code) => {
      clearTimeout(t);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${out}`));
    });
  });
}

/**
 * `trusted: false` starts VS Code with workspace trust on and the workspace not trusted (Restricted Mode,
 * without the startup prompt); by default trust is disabled, i.e. everything is trusted.
 */
export async function startCodeServer(o: {
  runDir: string;
  workspace: string;
  extensionsDir?: string;
  env?: Record<string, string>;
  trusted?: boolean;
}): Promise<CodeServer> {
  if (!existsSync(CODE_SERVER)) throw new Error(`code-server is not installed at ${CODE_SERVER}: run scripts/e2e-setup.sh`);
  const port = await freePort();
  const runDir = o.runDir;
  const userData = join(runDir, 'user-data');
  mkdirSync(join(userData, 'User'), { recursive: true });
  const restricted = o.trusted === false;
  const settings = restricted ? { ...USER_SETTINGS, ...RESTRICTED_SETTINGS } : USER_SETTINGS;
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  writeFileSync(join(runDir, 'config.yaml'), `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const extensionsDir = o.extensionsDir ?? join(runDir, 'extensions');
  mkdirSync(extensionsDir, { recursive: true });
  const logFile = join(runDir, 'code-server.log');
  const fd = openSync(logFile, 'w');
  const proc = spawn(
    CODE_SERVER,
    [
      '--config',
      join(runDir, 'config.yaml'),
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--user-data-dir',
      userData,
      '--extensions-dir',
      extensionsDir,
      '--disable-telemetry',
      '--disable-update-check',
      ...(restricted ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      '--ignore-last-opened',
      o.workspace,
    ],
    {
      cwd: runDir,
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, XDG_CONFIG_HOME: join(runDir, 'xdg'), XDG_DATA_HOME: join(runDir, 'xdg-data'), ...o.env },
    },
  );
  closeSync(fd);
  liveGroups.add(proc.pid!);
  let exited = false;
  proc.on('exit', () => {
    exited = true;
    liveGroups.delete(proc.pid!);
  });
  const origin = `http://127.0.0.1:${port}`;
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  await waitFor(
    `code-server to answer ${origin}/healthz`,
    async () => {
      if (exited) throw new Error(`code-server exited:\n${log().slice(-2000)}`);
      const r = await fetch(`${origin}/healthz`).catch(() => null);
      return r?.ok;
    },
    30_000,
    150,
  );
  const stop = async () => {
    if (exited) return;
    try {
      process.kill(-proc.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const t0 = Date.now();
    while (!exited && Date.now() - t0 < 4000) await new Promise((r) => setTimeout(r, 100));
    if (!exited) {
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };
  return { port, origin, runDir, logFile, proc, stop, log };
}

/** The workbench URL, optionally loading an unpacked extension (and in-host tests) through the payload. */
export function workbenchUrl(cs: CodeServer, folder: string, payload?: [string, string][]): string {
  const q = `folder=${encodeURIComponent(folder)}`;
  return `${cs.origin}/?${q}${payload ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : ''}`;
}

export function remoteUri(cs: CodeServer, path: string): string {
  return `vscode-remote://127.0.0.1:${cs.port}${path}`;
}

export async function launchBrowser(): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const profile = scratchDir('rnn-memory-chrome-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    env: { ...process.env, HOME: profile, XDG_CONFIG_HOME: join(profile, 'xdg') } as Record<string, string>,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 60_000,
  });
  // code-server registers its own PWA service worker with the root scope. It then races with VS Code's
  // webview service worker for control of webview pages ("Found unexpected service worker controller"), and
  // a webview created while that race is on can stay blank (seen about one time in four here). The PWA worker
  // has no function in these tests, so its registration is refused (page routes do not see worker scripts).
  await context.addInitScript(() => {
    const sw = (
      globalThis as unknown as { navigator: { serviceWorker?: { register: (url: unknown, opts?: unknown) => Promise<unknown> } } }
    ).navigator.serviceWorker;
    if (!sw) return;
    const register = sw.register.bind(sw);
    sw.register = (url: unknown, opts?: unknown) =>
      String(url).includes('/_static/out/browser/serviceWorker.js')
        ? Promise.reject(new Error('code-server PWA service worker disabled in tests'))
        : register(url, opts);
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close().catch(() => undefined);
    },
  };
}

export async function openWorkbench(page: Page, url: string): Promise<void> {
  await page.goto(url, { timeout: 60_000 });
  await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 60_000 });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Runs a command from the palette by its full title ("RNN Memory: Train on Copy Task"). */
export async function runCommand(page: Page, title: string, timeoutMs = 45_000): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('.quick-input-box input');
  const row = widget.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }) });
  await waitFor(
    `the command palette to list "${title}"`,
    async () => {
      // The palette snapshots the command list when it opens: re-open until the extension contributed it.
      if (!(await input.isVisible())) await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 5000 });
      await input.fill(`>${title}`);
      try {
        await row.first().waitFor({ state: 'visible', timeout: 1500 });
        return true;
      } catch {
        await page.keyboard.press('Escape');
        return false;
      }
    },
    timeoutMs,
    300,
  );
  await row.first().click();
}

/** "RNN Memory: Open Model…", then code-server's file dialog (a quick input holding a path): type `path` and accept it. */
export async function openModelWithDialog(page: Page, path: string, accepted?: () => Promise<boolean>): Promise<void> {
  await runCommand(page, 'RNN Memory: Open Model…');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await waitFor('the file dialog to show its starting folder', async () => (await input.inputValue()).startsWith('/'), 15_000);
  await waitFor(
    'the file dialog to accept the model path',
    async () => {
      // `accepted`: another quick input (e.g. the model's questions) may follow the dialog at once.
      if (!(await input.isVisible()) || (accepted && (await accepted()))) return true;
      await input.fill(path);
      await page.waitForTimeout(400);
      if ((await input.inputValue()) !== path) return false;
      await page.keyboard.press('Enter');
      await page.waitForTimeout(800);
      return !(await input.isVisible());
    },
    20_000,
    100,
  );
}

/** Picks the quick-pick row whose label is exactly `label`. */
export async function pickQuickItem(page: Page, label: string, timeoutMs = 15_000): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const row = widget.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(label)}$`) }) });
  await row
    .first()
    .waitFor({ state: 'visible', timeout: timeoutMs })
    .catch(async () => {
      const rows = await widget
        .locator('.monaco-list-row .label-name')
        .allTextContents()
        .catch(() => []);
      throw new Error(`quick pick has no item "${label}" (items: ${rows.join(' | ')})`);
    });
  await row.first().click();
}

/** "RNN Memory: Train on Copy Task" with BRC at T = 20, `size` ("1 × 32") and `steps` ("300 steps"): its training panel's frame. */
export async function trainCopyBrc(page: Page, size: string, steps: string): Promise<Frame> {
  await runCommand(page, 'RNN Memory: Train on Copy Task');
  await pickQuickItem(page, 'BRC');
  await pickQuickItem(page, 'T = 20');
  await pickQuickItem(page, size);
  await pickQuickItem(page, steps);
  return webviewFrame(page, `Training: copy · BRC T=20 · ${size.replace(' × ', '×')}`, 30_000);
}

/** The inner frame (our HTML) of the webview whose document title is `title`. */
export async function webviewFrame(page: Page, title: string | RegExp, timeoutMs = 30_000): Promise<Frame> {
  let seen: string[] = [];
  return waitFor(
    `a webview titled ${String(title)}`,
    async () => {
      seen = [];
      for (const f of page.frames()) {
        if (!f.parentFrame()?.url().includes('/webview/browser/pre/index.html')) continue;
        const t = await f.title().catch(() => '');
        seen.push(t);
        if (typeof title === 'string' ? t === title : title.test(t)) return f;
      }
      return null;
    },
    timeoutMs,
    250,
  ).catch((e: Error) => {
    throw new Error(`${e.message} (webview titles present: ${JSON.stringify(seen)})`);
  });
}

/** Waits until the frame's #status has a line for `view` and returns it ("rendered view=… k=v …"). */
export async function renderedStatus(
  frame: Frame,
  view: string,
  timeoutMs = 60_000,
  pred: (line: string) => boolean = () => true,
): Promise<Record<string, string>> {
  const line = await waitFor(
    `the ${view} webview to report a render in #status`,
    async () => {
      const text =
        (await frame
          .locator('#status')
          .textContent({ timeout: 2000 })
          .catch(() => null)) ?? '';
      const l = text.split('\n').find((s) => s.startsWith(`rendered view=${view} `) || s === `rendered view=${view}`);
      return l && pred(l) ? l : null;
    },
    timeoutMs,
    250,
  );
  const out: Record<string, string> = {};
  for (const kv of line.split(' ').slice(1)) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  await page.screenshot({ path: file });
  return file;
}
