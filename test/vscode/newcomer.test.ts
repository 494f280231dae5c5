/**
 * End-to-end: what a new user meets first (issue 15, part 2), in code-server with the packaged extension.
 * The extension activates because the workspace contains model files; double-clicking a PyTorch .pt in the
 * Explorer opens our editor, not VS Code's binary-file warning; "Open Model…" on that file afterwards
 * leaves one tab; the painted panel shows no debug text and its heatmap has axis ticks; its sentences number
 * layers as its charts and selects do (from 1); a short training run's log loss axis has readable ticks.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame, Page } from 'playwright-core';
import { makeWorkspace, type Fixtures } from './fixtures';
import {
  EXTENSION_ID,
  openModelWithDialog,
  pickQuickItem,
  renderedStatus,
  ROOT,
  runCommand,
  screenshot,
  setupPresent,
  trainCopyBrc,
  waitFor,
  webviewFrame,
  type CodeServer,
} from './harness';
import { usePackagedWorkbench } from './packaged-workbench';

const OUT = join(ROOT, 'test-output', 'e2e-newcomer');
const skip = setupPresent() ? false : 'code-server is not installed: run scripts/e2e-setup.sh';
let cs: CodeServer | null = null;
let page: Page;
let fx: Fixtures;

/** Editor tabs whose label is `name`. */
const tabs = (name: string) =>
  page.locator('.part.editor .tabs-container .tab', {
    has: page.locator('.label-name', { hasText: new RegExp(`^${name.replace(/\./g, '\\.')}$`) }),
  });

/** Every line of VS Code's logs (extension host included) under the run folder that mentions `needle`. */
function logLines(needle: string): string[] {
  const root = join(cs!.runDir, 'user-data', 'logs');
  if (!existsSync(root)) return [];
  const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.log'));
  return files.flatMap((f) =>
    readFileSync(join(root, f), 'utf8')
      .split('\n')
      .filter((l) => l.includes(needle)),
  );
}

/** The layer numbers N of every "Layer N" / "layer N" in `texts`. */
function layerNumbers(texts: readonly string[]): Set<number> {
  const out = new Set<number>();
  for (const t of texts) for (const m of t.matchAll(/\b[Ll]ayer (\d+)/g)) out.add(Number(m[1]));
  return out;
}

const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);

/** The panel's frame once its bistability map is painted with data. */
async function paintedModelFrame(title: string): Promise<Frame> {
  const frame = await webviewFrame(page, title, 60_000);
  await renderedStatus(frame, 'bistability', 90_000, (l) => /painted=[1-9]/.test(l));
  return frame;
}

const uiTest = usePackagedWorkbench({
  out: OUT,
  prefix: 'rnn-memory-newcomer-',
  skip,
  prepare: (workspace) => {
    fx = makeWorkspace(workspace);
  },
  ready: (w) => {
    page = w.page;
    cs = w.cs;
  },
});

describe('a new user in VS Code (code-server 4.100.3 + Chromium)', () => {
  uiTest('the extension activates because the workspace contains model files, before any click on its icon', async () => {
    const lines = await waitFor(
      'the extension host to log the activation',
      () => {
        const l = logLines(`_doActivateExtension ${EXTENSION_ID}`);
        return l.length ? l : null;
      },
      60_000,
      500,
    );
    assert.match(lines[0], /activationEvent: 'workspaceContains:/, lines[0]);
  });

  uiTest('double-clicking a .pt in the Explorer opens the diagnostics editor, not the binary-file warning', async () => {
    // The Explorer is open in a fresh window; its activity-bar icon toggles it, so click only when it is not.
    if (!(await page.locator('.explorer-folders-view').isVisible()))
      await page.locator('.activitybar .action-item a[aria-label^="Explorer"]').click();
    const row = (name: string) =>
      page.locator('.explorer-folders-view .monaco-list-row', {
        has: page.locator('.label-name', { hasText: new RegExp(`^${name.replace(/\./g, '\\.')}$`) }),
      });
    await row('models').first().waitFor({ timeout: 30_000 });
    if (!(await row('torch-gru.pt').first().isVisible())) await row('models').first().click();
    await row('torch-gru.pt').first().dblclick();
    // The checkpoint does not say what its Linear readout feeds: the editor asks (once; the answers are kept).
    await pickQuickItem(page, 'linear (regression, MSE)', 60_000);
    await pickQuickItem(page, 'last step only (h_T)', 15_000);
    await paintedModelFrame('torch-gru.pt');
    const editorText = (await page.locator('.part.editor').textContent()) ?? '';
    assert.doesNotMatch(editorText, /binary|unsupported text encoding/i, 'VS Code showed its binary-file warning');
    assert.equal(await tabs('torch-gru.pt').count(), 1);
    await screenshot(page, OUT, 'double-click-pt.png');
  });

  uiTest('"Open Model…" on the model already open, or open in the binary-file view, leaves one tab for it', async () => {
    await openModelWithDialog(page, fx.torchPt);
    await paintedModelFrame('torch-gru.pt');
    assert.equal(await tabs('torch-gru.pt').count(), 1, 'two tabs for the same model');
    // The state a user was in before our editor became the default: the file shown by VS Code's text editor.
    await runCommand(page, 'View: Reopen Editor With...');
    await pickQuickItem(page, 'Text Editor');
    await waitFor('the binary-file warning', async () => /binary/i.test((await page.locator('.part.editor').textContent()) ?? ''), 30_000);
    await openModelWithDialog(page, fx.torchPt);
    await paintedModelFrame('torch-gru.pt');
    // Give a second editor time to appear, if one were to.
    await page.waitForTimeout(2000);
    assert.equal(await tabs('torch-gru.pt').count(), 1, 'two tabs for the same model');
    assert.match(
      (await page.locator('.part.editor .tabs-container .tab.active .label-name').first().textContent()) ?? '',
      /^torch-gru\.pt$/,
    );
    await screenshot(page, OUT, 'open-model-one-tab.png');
  });

  uiTest('a painted panel shows no debug text, and its heatmap has time and neuron ticks', async () => {
    const frame = await paintedModelFrame('torch-gru.pt');
    assert.match((await frame.locator('#status').textContent()) ?? '', /rendered view=bistability/, "the tests' marker is kept");
    assert.equal(await frame.locator('#status').isVisible(), false, 'the render log is visible');
    const text =
      (await frame.evaluate(() => (globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText)) ?? '';
    assert.ok(!text.includes('rendered view='), 'debug text is visible in the panel');
    const sel = 'section[data-view="bistability"]';
    assert.ok((await frame.locator(`${sel} [data-role="heatmap-xticks"] .heatmap-tick`).count()) >= 2, 'no time ticks');
    assert.ok(await frame.locator(`${sel} [data-role="heatmap-yticks"] .heatmap-tick`).first().isVisible(), 'no neuron ticks');
    await frame.locator(sel).screenshot({ path: join(OUT, 'pt-bistability.png') });
  });

  uiTest('the diagnosis sentences number layers as the charts and layer selects do: from 1, no "Layer 0" on screen', async () => {
    const frame = await paintedModelFrame('torch-gru.pt');
    // The model's layers as the summary's architecture line lists them ("GRU×5 → GRU×5 → readout …").
    const caption = (await frame.locator('.run-summary p.caption').first().textContent()) ?? '';
    const layers = caption.split(' → readout')[0].split(' → ').length;
    assert.ok(layers >= 2, `the fixture should have several layers: ${caption}`);
    const expected = Array.from({ length: layers }, (_, i) => i + 1);
    const sentences = await frame.locator('.run-summary ul.diagnosis li').allTextContents();
    const legends = await frame.locator('canvas[data-legend]').evaluateAll((cs) => cs.map((c) => c.getAttribute('data-legend') ?? ''));
    const options = await frame.locator('vscode-single-select vscode-option').allTextContents();
    const inSentences = layerNumbers(sentences);
    const inCharts = layerNumbers(legends);
    const inSelects = layerNumbers(options);
    assert.ok(inSentences.size > 0, `no sentence names a layer: ${sentences.join(' | ')}`);
    assert.deepEqual(sorted(inCharts), expected, `chart legends: ${legends.join(' / ')}`);
    assert.deepEqual(sorted(inSelects), expected, `layer selects: ${options.join(' | ')}`);
    for (const n of inSentences)
      assert.ok(expected.includes(n), `a sentence names layer ${n} of a ${layers}-layer model: ${sentences.join(' | ')}`);
    const text =
      (await frame.evaluate(() => (globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText)) ?? '';
    assert.doesNotMatch([text, ...legends, ...options].join('\n'), /\b[Ll]ayer 0\b/, '"Layer 0" is on screen');
    // Advice in the extension names settings (rnnMemory.…), never a CLI flag.
    for (const s of sentences) assert.ok(!s.includes('--'), `a CLI flag in a sentence: ${s}`);
  });

  uiTest("after a short training run the loss chart's log axis has at least three tick labels", async () => {
    const panel = await trainCopyBrc(page, '2 × 32', '300 steps');
    await waitFor('the run to complete', async () => (await panel.locator('.run-status').textContent()) === 'Completed', 180_000);
    const canvas = panel.locator('canvas[data-role="training-loss"]');
    // The last redraw (one animation frame after the final event) writes the axis it drew.
    const ticks = await waitFor('the chart to mark its y ticks', async () => (await canvas.getAttribute('data-y-ticks')) || null, 10_000);
    const labels = ticks.split('|');
    assert.ok(new Set(labels).size >= 3, `the log loss axis has ${labels.length} tick label(s): ${ticks}`);
    const values = labels.map(Number);
    assert.ok(
      values.every((v) => v > 0 && Number.isFinite(v)),
      `ticks that are not loss values: ${ticks}`,
    );
    assert.ok(
      values.every((v, i) => i === 0 || v > values[i - 1]),
      `ticks not in increasing order: ${ticks}`,
    );
    await canvas.screenshot({ path: join(OUT, 'training-loss-ticks.png') });
  });
});
