/**
 * End-to-end checks that the host says one thing in one way (issue 15, part 2, host side): a stopped run is
 * "stopped" in the panel, the tree and the Inspector; its final numbers are the same in the panel, the
 * Inspector and the notification; the Inspector shows the trained model without a click; the tree lists
 * PyTorch and Keras files. Driven like a user in code-server + Chromium (harness.ts), one server for all.
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame, Page } from 'playwright-core';
import { ROOT, screenshot, trainCopyBrc, waitFor, webviewFrame } from './harness';
import { usePackagedWorkbench } from './packaged-workbench';

const OUT = join(ROOT, 'test-output', 'host-consistency');
const FORMATS = join(ROOT, 'test', 'fixtures', 'formats');
let page: Page;
let runsDir = '';

const uiTest = usePackagedWorkbench({
  out: OUT,
  prefix: 'rnn-memory-consistency-',
  skip: false,
  prepare: (workspace) => {
    mkdirSync(join(workspace, 'models'), { recursive: true });
    runsDir = join(workspace, 'runs');
    mkdirSync(runsDir);
    copyFileSync(join(FORMATS, 'torch-gru.pt'), join(workspace, 'models', 'torch-gru.pt'));
    copyFileSync(join(FORMATS, 'keras-gru-lstm.keras'), join(workspace, 'models', 'keras-gru-lstm.keras'));
  },
  ready: (w) => {
    page = w.page;
  },
});

const treeRows = () => page.locator('.pane-body .monaco-list-row').allTextContents();

/** "loss 0.155 · test loss 0.214" (copy: the test MSE is the test loss) → the two numbers as shown (strings: the rounding is part of the check). */
function shownNumbers(text: string, where: string): { loss: string; mse: string } {
  const m = /loss (\S+) · test loss ([^\s),;]+)/.exec(text);
  assert.ok(m, `${where} shows no "loss … · test loss …": ${text}`);
  assert.doesNotMatch(text, /MSE/, `${where} names copy's test loss "MSE" too`);
  return { loss: m[1], mse: m[2] };
}

describe('one vocabulary and one set of numbers across the host (code-server + Chromium)', () => {
  let inspector: Frame;

  uiTest('the tree lists a PyTorch .pt and a Keras .keras model from the workspace', async () => {
    const item = page.locator('.activitybar .action-item a[aria-label^="RNN Memory"]');
    await item.waitFor({ timeout: 45_000 });
    await item.click();
    const rows = await waitFor(
      'the tree to list the .pt and .keras files',
      async () => {
        const t = await treeRows();
        return t.some((r) => r.includes('torch-gru.pt')) && t.some((r) => r.includes('keras-gru-lstm.keras')) ? t : null;
      },
      45_000,
    );
    assert.ok(
      rows.some((r) => r.includes('torch-gru.pt') && r.includes('PyTorch checkpoint')),
      rows.join(' | '),
    );
    assert.ok(
      rows.some((r) => r.includes('keras-gru-lstm.keras') && r.includes('Keras model')),
      rows.join(' | '),
    );
    inspector = await webviewFrame(page, 'Inspector', 30_000);
  });

  uiTest(
    'a stopped run: "stopped" everywhere, the same final numbers in panel, Inspector and notification, and the Inspector shows its model',
    async () => {
      const panel = await trainCopyBrc(page, '1 × 32', '30000 steps');
      // Stop once a few hundred steps and an evaluation are in (the panel then shows a loss and a test loss).
      await waitFor(
        'the panel to show 300 steps and a test loss',
        async () => {
          const t = (await panel.locator('.stats').textContent()) ?? '';
          return Number(/step (\d+) \//.exec(t)?.[1] ?? 0) >= 300 && /test loss/.test(t);
        },
        120_000,
      );
      await panel.locator('vscode-button', { hasText: 'Stop' }).click();
      await waitFor('the panel to say Stopped', async () => (await panel.locator('.run-status').textContent()) === 'Stopped', 30_000);
      const runId = await waitFor('the run folder', () => readdirSync(runsDir).find((d) => d.endsWith('-copy-brc')), 10_000);

      const toast = page.locator('.notifications-toasts .notification-list-item-message', { hasText: 'Training stopped at step' });
      const toastText = (await toast.first().textContent({ timeout: 30_000 })) ?? '';
      const panelText = (await panel.locator('.stats').textContent()) ?? '';
      const inspectorLine = inspector.locator('section[data-view="inspector"] p.caption', { hasText: ': stopped, step' });
      const inspectorText = (await inspectorLine.first().textContent({ timeout: 30_000 })) ?? '';
      const fromPanel = shownNumbers(panelText, 'the panel');
      assert.deepEqual(shownNumbers(inspectorText, 'the Inspector'), fromPanel, `panel "${panelText}" vs Inspector "${inspectorText}"`);
      assert.deepEqual(shownNumbers(toastText, 'the notification'), fromPanel, `panel "${panelText}" vs notification "${toastText}"`);
      const step = /step (\d+) \//.exec(panelText)?.[1];
      assert.ok(
        inspectorText.includes(`step ${step} /`) && toastText.includes(`step ${step}`),
        `steps differ: ${panelText} | ${inspectorText} | ${toastText}`,
      );

      const row = await waitFor(
        'the tree row of the stopped run',
        async () => (await treeRows()).find((t) => t.includes('copy · BRC T=20 · 1×32') && /resumable/.test(t)),
        20_000,
      );
      assert.match(row, /stopped/);
      assert.doesNotMatch(row, /cancelled/);
      for (const text of [panelText, inspectorText, toastText]) assert.doesNotMatch(text, /cancel/i);

      // After training the Inspector describes the run's model without any click.
      await waitFor(
        'the Inspector to show the trained model',
        async () =>
          (await inspector
            .locator('.model-name')
            .textContent({ timeout: 2000 })
            .catch(() => '')) === runId,
        30_000,
      );
      const arch = (await inspector.locator('ul.arch').textContent()) ?? '';
      assert.match(arch, /Layer 1: BRC × 32/);
      await screenshot(page, OUT, 'stopped.png');
    },
  );
});
