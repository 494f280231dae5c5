/**
 * End-to-end tier: packages the extension (.vsix), installs it offline into code-server and drives VS Code
 * in headless Chromium the way a new user would: the activity bar, the command palette, quick picks, the
 * file dialog, buttons inside the webviews. One code-server and one browser serve every test (in order).
 * Screenshots land in test-output/e2e/.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame, Page } from 'playwright-core';
import { RUN_FILES } from '../../core/train/run';
import { makeWorkspace, type Fixtures } from './fixtures';
import {
  installVsix,
  launchBrowser,
  openModelWithDialog,
  openWorkbench,
  pickQuickItem,
  renderedStatus,
  ROOT,
  runCommand,
  runProcess,
  scratchDir,
  screenshot,
  startCodeServer,
  waitFor,
  webviewFrame,
  workbenchUrl,
  type CodeServer,
} from './harness';

const OUT = join(ROOT, 'test-output', 'e2e');
let cs: CodeServer | null = null;
let browser: Awaited<ReturnType<typeof launchBrowser>> | null = null;
let page: Page;
let fx: Fixtures;
let exportsDir = '';
let workbench = '';
const t0 = Date.now();
const timings: string[] = [];

function mark(what: string): void {
  timings.push(`${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** Distinct colours and painted (non-background) pixels of every canvas in a view, read in the webview. */
async function canvasStats(
  frame: Frame,
  selector: string,
): Promise<{ canvases: number; width: number; height: number; painted: number; total: number; colors: number }> {
  // Runs in the page; typed structurally because this project's tsconfig has no DOM lib.
  interface CanvasLike {
    width: number;
    height: number;
    getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
  }
  return frame.evaluate((sel) => {
    const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<CanvasLike> } }).document;
    const out = { canvases: 0, width: 0, height: 0, painted: 0, total: 0, colors: 0 };
    const colors = new Set<number>();
    for (const c of Array.from(doc.querySelectorAll(sel))) {
      if (c.width === 0 || c.height === 0) continue;
      const ctx = c.getContext('2d');
      if (!ctx) continue;
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      out.canvases++;
      out.width = Math.max(out.width, c.width);
      out.height += c.height;
      // The most frequent colour is the background; everything else is painted.
      const counts = new Map<number, number>();
      for (let i = 0; i < d.length; i += 4) {
        const key = (d[i] << 24) | (d[i + 1] << 16) | (d[i + 2] << 8) | d[i + 3];
        counts.set(key, (counts.get(key) ?? 0) + 1);
        colors.add(key);
      }
      const bg = Math.max(...counts.values());
      out.total += d.length / 4;
      out.painted += d.length / 4 - bg;
    }
    out.colors = colors.size;
    return out;
  }, selector);
}

before(async () => {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const tmp = scratchDir('rnn-memory-e2e-');
  const workspace = join(tmp, 'ws');
  mkdirSync(workspace);
  fx = makeWorkspace(workspace);
  exportsDir = join(tmp, 'exports');
  mkdirSync(exportsDir);
  mark('fixtures');
  const vsix = join(tmp, 'rnn-memory-lens.vsix');
  await runProcess(process.execPath, [join(ROOT, 'scripts', 'package.mjs'), '--target', 'linux-x64', '--out', vsix], process.env, 120_000);
  mark('packaged');
  const runDir = join(tmp, 'cs');
  mkdirSync(runDir);
  await installVsix(vsix, runDir, join(runDir, 'extensions'));
  mark('installed');
  cs = await startCodeServer({ runDir, workspace, env: { RNN_MEMORY_EXPORT_DIR: exportsDir } });
  browser = await launchBrowser();
  page = browser.page;
  // The browser console of the workbench and every webview, kept as an artifact for failures.
  const consoleLog: string[] = [];
  const t = () => ((Date.now() - t0) / 1000).toFixed(1);
  page.on('console', (m) => consoleLog.push(`${t()} [${m.type()}] ${m.text().slice(0, 500)}`));
  page.on('pageerror', (e) => consoleLog.push(`${t()} [pageerror] ${e.message}`));
  browser.context.on('serviceworker', (w) => consoleLog.push(`${t()} [serviceworker] ${w.url()}`));
  process.on('exit', () => writeFileSync(join(OUT, 'console.log'), consoleLog.join('\n') + '\n'));
  workbench = workbenchUrl(cs, workspace);
  await openWorkbench(page, workbench);
  mark('workbench visible');
});

after(async () => {
  if (page) await screenshot(page, OUT, 'final.png').catch(() => undefined);
  await browser?.close();
  await cs?.stop();
  process.stdout.write(`# e2e timings: ${timings.join(', ')}\n`);
});

/** The end of the extension's own log ("RNN Memory" output channel) across window reloads, for failures. */
function extensionLogTail(chars = 4000): string {
  if (!cs) return '';
  const root = join(cs.runDir, 'user-data', 'logs');
  const files = existsSync(root)
    ? (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('RNN Memory.log')).sort()
    : [];
  const text = files.map((f) => `== ${f}\n${readFileSync(join(root, f), 'utf8')}`).join('\n');
  return text.slice(-chars);
}

/** A test that saves a screenshot named after it, and reports the extension's log, when it fails. */
function uiTest(name: string, fn: () => Promise<void>): void {
  test(name, async () => {
    try {
      await fn();
    } catch (e) {
      const file = `failed-${name.replace(/[^\w]+/g, '-').slice(0, 60)}.png`;
      if (page) await screenshot(page, OUT, file).catch(() => undefined);
      if (e instanceof Error) e.message += `\nextension log (tail):\n${extensionLogTail()}`;
      throw e;
    }
  });
}

describe('RNN Memory Lens in VS Code, driven like a user (code-server 4.100.3 + Chromium)', () => {
  uiTest('the RNN Memory activity bar container shows the Runs & Models tree and the Inspector', async () => {
    const item = page.locator('.activitybar .action-item a[aria-label^="RNN Memory"]');
    await item.waitFor({ timeout: 45_000 });
    await item.click();
    const rows = page.locator('.pane-body .monaco-list-row');
    const labels = await waitFor(
      'the tree to list the fixture models and the interrupted run',
      async () => {
        const t = await rows.allTextContents();
        const all = t.join('\n');
        return all.includes('brc-copy.safetensors') && all.includes('gru-lstm-untrained.safetensors') && all.includes('interrupted')
          ? t
          : null;
      },
      45_000,
    );
    assert.ok(!labels.join('\n').includes('foreign.safetensors'), 'a foreign safetensors file is listed');
    assert.ok(
      labels.some((l) => /copy · GRU T=10 · 1×8/.test(l) && /interrupted · step 40\/80/.test(l) && /resumable/.test(l)),
      `run row: ${labels.join(' | ')}`,
    );
    const inspector = await webviewFrame(page, 'Inspector', 30_000);
    await renderedStatus(inspector, 'inspector', 30_000);
    mark('sidebar');
    await screenshot(page, OUT, 'sidebar.png');
  });

  let runTitle = '';
  uiTest('"Train on Copy Task" from the palette with quick picks shows the loss going down live', async () => {
    await runCommand(page, 'RNN Memory: Train on Copy Task');
    mark('palette usable');
    await pickQuickItem(page, 'BRC');
    await pickQuickItem(page, 'T = 20');
    await pickQuickItem(page, '1 × 32');
    // The steps pick also offers the curriculum a 1-layer BRC needs on copy (picked here: the plain count).
    const stepLabels = await waitFor(
      'the steps quick pick',
      async () => {
        const l = await page.locator('.quick-input-widget .monaco-list-row .label-name').allTextContents();
        return l.includes('30000 steps') ? l : null;
      },
      15_000,
    );
    assert.ok(stepLabels.includes('30000 steps + curriculum'), `steps pick: ${stepLabels.join(' | ')}`);
    await pickQuickItem(page, '30000 steps');
    runTitle = 'Training: copy · BRC T=20 · 1×32';
    const frame = await webviewFrame(page, runTitle, 30_000);
    mark('training panel frame');
    await renderedStatus(frame, 'training', 30_000, (l) => / status=running/.test(l));
    mark('training panel rendered');
    // Live: the step shown in the panel advances while the run trains.
    const stepShown = async () => Number(/step (\d+) \/ 30000/.exec((await frame.locator('.stats').textContent()) ?? '')?.[1] ?? -1);
    const first =
      (await waitFor('the panel to show a step', async () => ((await stepShown()) >= 0 ? (await stepShown()) + 1 : 0), 15_000)) - 1;
    const later = await waitFor(
      'the panel to show at least 1500 steps',
      async () => {
        const st = await stepShown();
        return st >= Math.max(1500, first + 1) ? st : 0;
      },
      90_000,
    );
    assert.ok(later > first, `step did not advance (${first} → ${later})`);
    // The curve itself, as the panel exports it (Export CSV writes the chart's points): the test loss fell.
    await frame.locator('vscode-button', { hasText: 'Export CSV' }).click();
    const csvFile = await waitFor(
      'the training CSV export',
      () => readdirSync(exportsDir).find((f) => f.startsWith('training') && f.endsWith('.csv')),
      15_000,
    );
    // The host writes exports atomically (temp file + rename), so the file is complete once it is listed.
    const rows = readFileSync(join(exportsDir, csvFile), 'utf8').trim().split('\n');
    assert.deepEqual(rows[0].split(','), ['step', 'loss', 'test_loss', 'mse']);
    const evals = rows
      .slice(1)
      .map((r) => r.split(','))
      .filter((c) => c[2] !== '')
      .map((c) => ({ step: Number(c[0]), test: Number(c[2]) }));
    assert.ok(evals.length >= 5, `only ${evals.length} evaluations in the CSV`);
    assert.equal(evals[0].step, 0);
    const recent = evals.slice(-3).map((e) => e.test);
    assert.ok(Math.max(...recent) < 0.6 * evals[0].test, `test loss did not go down: first ${evals[0].test}, recent ${recent}`);
    const status = await renderedStatus(frame, 'training', 5000);
    assert.ok(Number(status.points) >= 3, `chart has ${status.points} points`);
    const chart = await canvasStats(frame, 'canvas[data-role="training-loss"]');
    assert.ok(chart.painted > 500, `loss chart canvas is nearly empty (${chart.painted} painted pixels)`);
    const bar = await page.locator('.statusbar-item', { hasText: 'copy · BRC' }).first().textContent({ timeout: 5000 });
    assert.match(bar ?? '', /\d+\/30000 · loss/);
    mark('loss went down');
    await screenshot(page, OUT, 'training.png');
  });

  uiTest('Stop in the training panel stops the run, and the run is saved and resumable', async () => {
    const frame = await webviewFrame(page, runTitle, 10_000);
    await frame.locator('vscode-button', { hasText: 'Stop' }).click();
    await waitFor('the panel to say Stopped', async () => (await frame.locator('.run-status').textContent()) === 'Stopped', 30_000);
    const runs = readdirSync(fx.runsDir).filter((d) => d.endsWith('-copy-brc'));
    assert.equal(runs.length, 1, `runs: ${runs}`);
    const dir = join(fx.runsDir, runs[0]);
    const status = JSON.parse(readFileSync(join(dir, RUN_FILES.status), 'utf8'));
    assert.equal(status.status, 'cancelled');
    assert.ok(status.step > 0 && status.step < 30000, `stopped at step ${status.step}`);
    assert.ok(existsSync(join(dir, RUN_FILES.model)) && existsSync(join(dir, RUN_FILES.checkpoint)), 'model or checkpoint not saved');
    await waitFor(
      'the tree to show the run as resumable',
      async () =>
        (await page.locator('.pane-body .monaco-list-row').allTextContents()).some(
          (t) => /copy · BRC T=20 · 1×32/.test(t) && /stopped/.test(t) && /resumable/.test(t),
        ),
      15_000,
    );
    mark('stopped');
    await screenshot(page, OUT, 'training-stopped.png');
  });

  uiTest('"Open Model…" with the file dialog opens the diagnostics editor: a bistability map painted with data', async () => {
    await openModelWithDialog(page, fx.trained);
    const frame = await webviewFrame(page, 'brc-copy.safetensors', 30_000);
    const st = await renderedStatus(frame, 'bistability', 90_000, (l) => /painted=[1-9]/.test(l));
    assert.equal(st.layers, '2');
    const px = await canvasStats(frame, 'section[data-view="bistability"] canvas');
    assert.ok(px.canvases >= 1, 'no canvas in the bistability view');
    assert.ok(px.painted / px.total > 0.2, `only ${px.painted} of ${px.total} pixels painted`);
    assert.ok(px.colors >= 8, `only ${px.colors} distinct colours: not a data map`);
    // The editor shows the whole report: the other views are rendered below the map.
    await renderedStatus(frame, 'gradientFlow', 30_000);
    await renderedStatus(frame, 'retention', 30_000);
    assert.match((await frame.locator('ul.diagnosis').first().textContent({ timeout: 5000 })) ?? '', /bistable/i);
    mark('bistability');
    await screenshot(page, OUT, 'bistability.png');
  });

  uiTest('"Show Gradient Flow" draws one series per layer', async () => {
    await runCommand(page, 'RNN Memory: Show Gradient Flow');
    const frame = await webviewFrame(page, 'Gradient Flow: brc-copy.safetensors', 30_000);
    const st = await renderedStatus(frame, 'gradientFlow', 90_000);
    assert.equal(st.series, '2', `gradient flow status: ${JSON.stringify(st)}`);
    assert.ok(Number(st.points) > 0);
    const px = await canvasStats(frame, 'section[data-view="gradientFlow"] canvas');
    assert.ok(px.painted > 1000, `gradient flow canvases nearly empty (${px.painted})`);
    mark('gradient flow');
    await screenshot(page, OUT, 'gradient-flow.png');
  });

  uiTest('"Show Memory Retention" draws a chart with points, and its CSV/PNG exports are written', async () => {
    await runCommand(page, 'RNN Memory: Show Memory Retention');
    const frame = await webviewFrame(page, 'Retention: brc-copy.safetensors', 30_000);
    const st = await renderedStatus(frame, 'retention', 90_000);
    assert.ok(Number(st.points) > 0, `retention status: ${JSON.stringify(st)}`);
    mark('retention');
    await screenshot(page, OUT, 'retention.png');
    await frame.locator('vscode-button', { hasText: /CSV/ }).first().click();
    await frame.locator('vscode-button', { hasText: /PNG/ }).first().click();
    const files = await waitFor(
      'the CSV and PNG exports to be written',
      () => {
        const f = readdirSync(exportsDir);
        return f.some((x) => x.endsWith('.csv')) && f.some((x) => x.endsWith('.png')) ? f : null;
      },
      15_000,
    );
    const png = readFileSync(
      join(
        exportsDir,
        files.find((x) => x.endsWith('.png'))!,
      ),
    );
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const csv = readFileSync(
      join(
        exportsDir,
        files.find((x) => x.endsWith('.csv'))!,
      ),
      'utf8',
    );
    assert.ok(csv.split('\n').length > 3, 'CSV has no data rows');
  });

  uiTest('after a window reload the panels come back rendered and the runs are listed from disk', async () => {
    // "Developer: Reload Window" shuts the workbench down in order (it saves the open editors), then reloads.
    const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 60_000 });
    await runCommand(page, 'Developer: Reload Window');
    await navigated;
    await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 60_000 });
    const frame = await webviewFrame(page, 'Retention: brc-copy.safetensors', 60_000);
    const st = await renderedStatus(frame, 'retention', 90_000);
    assert.ok(Number(st.points) > 0);
    await waitFor(
      'the tree to list the stopped run again',
      async () =>
        (await page.locator('.pane-body .monaco-list-row').allTextContents()).some(
          (t) => /copy · BRC T=20 · 1×32/.test(t) && /resumable/.test(t),
        ),
      30_000,
    );
    mark('restored');
    await screenshot(page, OUT, 'restored.png');
  });

  uiTest(
    '"Open Model…" opens a PyTorch checkpoint (.pt): its questions are asked as quick picks and its bistability map is painted',
    async () => {
      const t = Date.now();
      const title = page.locator('.quick-input-widget .quick-input-title');
      await openModelWithDialog(page, fx.torchPt, async () =>
        /torch-gru\.pt \(1\/2\)/.test((await title.textContent({ timeout: 500 }).catch(() => '')) ?? ''),
      );
      // The checkpoint does not say what its Linear readout feeds: the host asks, one quick pick per question.
      await pickQuickItem(page, 'linear (regression, MSE)', 30_000);
      await pickQuickItem(page, 'last step only (h_T)', 15_000);
      const frame = await webviewFrame(page, 'torch-gru.pt', 30_000);
      const st = await renderedStatus(frame, 'bistability', 30_000, (l) => /painted=[1-9]/.test(l));
      assert.equal(st.layers, '2', `bistability status: ${JSON.stringify(st)}`); // nn.GRU(3, 5, num_layers=2)
      const px = await canvasStats(frame, 'section[data-view="bistability"] canvas');
      assert.ok(px.canvases >= 1, 'no canvas in the bistability view');
      assert.ok(
        px.painted > 0 && px.colors >= 4,
        `bistability map of the PyTorch model looks empty (${px.painted} painted, ${px.colors} colours)`,
      );
      assert.ok(
        !existsSync(`${fx.torchPt}.rnnmemory.json`),
        'the answers were written next to the checkpoint (they belong in the extension storage)',
      );
      mark(`pytorch (${((Date.now() - t) / 1000).toFixed(1)} s)`);
      await screenshot(page, OUT, 'pytorch-bistability.png');
    },
  );
});
