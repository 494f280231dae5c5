/**
 * End-to-end: "Diagnose PyTorch Model…" as a user runs it, in code-server with the packaged extension and a
 * workspace holding a .py model and its .pt weights (rnnMemory.python.path names a Python with torch). From
 * the palette: the file dialog, the factory, the weights, no arguments, the copy task at T = 8; from the
 * Explorer's context menu on models.py: the same picks without the dialog. Both end with the model's editor
 * painted with data (bistability map, gradient flow) and the sentences naming the user's cell.
 */
import { join } from 'node:path';
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame, Page } from 'playwright-core';
import { skipWithoutPython } from '../helpers/torch-python';
import { pickQuickItem, renderedStatus, ROOT, runCommand, setupPresent, waitFor, webviewFrame } from './harness';
import { usePackagedWorkbench } from './packaged-workbench';
import { makeTorchWorkspace, type TorchFixtures } from './torch-fixtures';

const OUT = join(ROOT, 'test-output', 'e2e-torch');
const skip = setupPresent() ? skipWithoutPython('torch-e2e.test.ts') : 'code-server is not installed: run scripts/e2e-setup.sh';
const TITLE = /^models\.py:gru_model \(gru-weights\.pt\)$/;
let page: Page;
let fx: TorchFixtures;

const uiTest = usePackagedWorkbench({
  out: OUT,
  prefix: 'rnn-memory-torch-e2e-',
  skip,
  timeoutMs: 600_000,
  prepare: (workspace) => {
    fx = makeTorchWorkspace(workspace);
  },
  ready: (w) => {
    page = w.page;
  },
});

const quickInput = () => page.locator('.quick-input-widget .quick-input-box input');

/** Types `text` into the open input box (the factory's arguments, T) and accepts it. */
async function answerInput(prompt: RegExp, text: string): Promise<void> {
  const message = page.locator('.quick-input-widget .quick-input-message');
  await waitFor(`an input box asking ${prompt}`, async () => prompt.test((await message.textContent().catch(() => '')) ?? ''), 30_000);
  await quickInput().fill(text);
  await page.keyboard.press('Enter');
}

/** The picks after the Python file: factory, weights, arguments (none), copy at T = 8. */
async function pickModel(): Promise<void> {
  await pickQuickItem(page, 'gru_model', 30_000);
  await pickQuickItem(page, 'gru-weights.pt');
  await answerInput(/Keyword arguments of gru_model/, '');
  await pickQuickItem(page, 'Copy first input');
  await answerInput(/Sequence length T/, '8');
}

/** The model editor, once its bistability map and gradient flow are painted with data. */
async function paintedEditor(): Promise<Frame> {
  const frame = await webviewFrame(page, TITLE, 240_000);
  await renderedStatus(frame, 'bistability', 120_000, (l) => /painted=[1-9]/.test(l));
  return frame;
}

async function checkPainted(frame: Frame, shot: string): Promise<void> {
  const sentences = await frame.locator('.run-summary ul.diagnosis li').allTextContents();
  assert.ok(sentences.length > 0, 'no diagnosis sentences');
  // The user's cell is layer 1 of a 6-unit stack, described as the architecture line shows it.
  const caption = (await frame.locator('.run-summary p.caption').first().textContent()) ?? '';
  assert.match(caption, /×6/, `architecture line: ${caption}`);
  const heat = frame.locator('section[data-view="bistability"] [data-role="heatmap-xticks"] .heatmap-tick');
  assert.ok((await heat.count()) >= 2, 'the bistability heatmap has no time ticks');
  const grad = frame.locator('canvas[data-legend]');
  assert.ok((await grad.count()) > 0, 'no chart with a legend is drawn');
  await page.screenshot({ path: join(OUT, shot) });
}

describe('Diagnose PyTorch Model… in VS Code (code-server 4.100.3 + Chromium, packaged extension)', () => {
  uiTest('from the palette: file dialog, factory, weights, task; the model editor is painted', async () => {
    await runCommand(page, 'RNN Memory: Diagnose PyTorch Model…');
    const input = quickInput();
    await input.waitFor({ state: 'visible', timeout: 15_000 });
    await waitFor('the file dialog to show its starting folder', async () => (await input.inputValue()).startsWith('/'), 15_000);
    const factoryRow = page.locator('.quick-input-widget .monaco-list-row .label-name', { hasText: /^gru_model$/ });
    await waitFor(
      'the file dialog to accept models.py',
      async () => {
        if (await factoryRow.first().isVisible()) return true;
        await input.fill(fx.models);
        await page.waitForTimeout(400);
        if ((await input.inputValue()) !== fx.models) return false;
        await page.keyboard.press('Enter');
        await page.waitForTimeout(800);
        return factoryRow.first().isVisible();
      },
      30_000,
      100,
    );
    await pickModel();
    await checkPainted(await paintedEditor(), 'palette-painted.png');
  });

  uiTest('from the Explorer: the context menu of models.py offers it and leads to the same painted editor', async () => {
    // Close the editor so the second diagnosis has to open (and paint) it again.
    await runCommand(page, 'View: Close All Editors');
    await waitFor('no webview left', async () => (await page.locator('.part.editor .tabs-container .tab').count()) === 0, 15_000);
    if (!(await page.locator('.explorer-folders-view').isVisible()))
      await page.locator('.activitybar .action-item a[aria-label^="Explorer"]').click();
    const row = (name: string) =>
      page.locator('.explorer-folders-view .monaco-list-row', {
        has: page.locator('.label-name', { hasText: new RegExp(`^${name.replace(/\./g, '\\.')}$`) }),
      });
    await row('model').first().waitFor({ timeout: 30_000 });
    if (!(await row('models.py').first().isVisible())) await row('model').first().click();
    await row('models.py').first().click({ button: 'right' });
    const item = page.locator('.context-view .action-label', { hasText: /^Diagnose PyTorch Model…$/ });
    await item.first().waitFor({ state: 'visible', timeout: 15_000 });
    // The workbench's menu ignores a click that lands right after it opened (it guards against the
    // right-click's own mouseup): hover, then click, and if the menu is still open accept the item by key.
    await item.first().hover();
    await page.waitForTimeout(300);
    await item.first().click();
    await waitFor(
      'the context menu to run the command',
      async () => {
        if (
          !(await page
            .locator('.context-view .action-label')
            .first()
            .isVisible()
            .catch(() => false))
        )
          return true;
        await page.keyboard.press('Enter');
        return false;
      },
      15_000,
      500,
    );
    await pickModel();
    await checkPainted(await paintedEditor(), 'explorer-painted.png');
  });
});
