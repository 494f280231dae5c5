/**
 * End-to-end: the user's own training script with the Monitor (diagnose_every) writes into the workspace's
 * runs folder while code-server (packaged extension) shows it. The run appears live in the Runs tree;
 * clicking it opens its training panel, whose loss curve grows while the script trains; once two snapshots
 * are diagnosed, the Over-training view draws their numbers against the step.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { skipWithoutPython } from '../helpers/torch-python';
import { renderedStatus, ROOT, setupPresent, waitFor, webviewFrame } from './harness';
import { makeMonitorWorkspace } from './monitor-fixtures';
import { usePackagedWorkbench } from './packaged-workbench';

const OUT = join(ROOT, 'test-output', 'e2e-monitor');
const skip = setupPresent() ? skipWithoutPython('monitor-e2e.test.ts') : 'code-server is not installed: run scripts/e2e-setup.sh';
let page: Page;
let script: ChildProcess | undefined;
let stderr = '';

const uiTest = usePackagedWorkbench({
  out: OUT,
  prefix: 'rnn-memory-monitor-e2e-',
  skip,
  timeoutMs: 600_000,
  prepare: (workspace) => {
    const fx = makeMonitorWorkspace(workspace);
    // The user's script, started before the editor opens (as it would be in a terminal): a snapshot every
    // 10 steps, a diagnosis every 20 (the lens's CLI from this checkout), slow enough to watch.
    script = spawn(
      fx.python,
      [
        fx.script,
        join(workspace, 'runs', 'live'),
        '--steps',
        '100000',
        '--every',
        '10',
        '--diagnose-every',
        '20',
        '--sleep',
        '0.05',
        '--heartbeat',
        '1',
      ],
      {
        env: { ...process.env, PYTHONPATH: fx.pythonPath, PYTHONDONTWRITEBYTECODE: '1', RNN_MEMORY_CLI: `${process.execPath} ${fx.cli}` },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    script.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  },
  ready: (w) => {
    page = w.page;
  },
});
after(() => {
  script?.kill('SIGKILL');
});

const treeRows = () => page.locator('.pane-body .monaco-list-row');

describe('a monitored training script in VS Code (code-server 4.100.3 + Chromium, packaged extension)', () => {
  uiTest('live in the Runs tree; its panel’s loss grows; the Over-training view draws two diagnosed snapshots', async () => {
    const item = page.locator('.activitybar .action-item a[aria-label^="RNN Memory"]');
    await item.waitFor({ timeout: 45_000 });
    await item.click();
    const row = treeRows()
      .filter({ hasText: /^live/ })
      .filter({ hasText: /live · step \d+/ });
    await waitFor('the run listed live', async () => (await row.count()) > 0, 90_000).catch((e: Error) => {
      throw new Error(`${e.message}; the script's stderr: ${stderr}`);
    });
    // The tree re-lists live runs every few seconds, so a click can land on a row being replaced: click until
    // the panel opens.
    const panel = await waitFor(
      'the training panel of the run to open',
      async () => {
        await row.first().click({ timeout: 5000 });
        return webviewFrame(page, 'Training: live', 8000).catch(() => null);
      },
      60_000,
    );
    const points = async () => Number((await panel.locator('canvas[data-role="training-loss"]').getAttribute('data-points')) ?? 0);
    const first = await waitFor('the loss curve to have points', async () => (await points()) || null, 30_000);
    await waitFor('the loss curve to grow while the script trains', async () => (await points()) > first, 60_000);

    const over = await renderedStatus(panel, 'overTraining', 300_000, (l) => /snapshots=[2-9]|snapshots=\d{2,}/.test(l));
    assert.equal(over.layers, '2', 'TinyGRU has two cells');
    assert.ok(Number(over.recall) >= 2, `copy recall drawn for ${over.recall} snapshots`);
    assert.ok(Number(over.painted) > 0);
    const section = panel.locator('section[data-view="overTraining"]');
    assert.ok(await section.isVisible(), 'the Over-training view is hidden');
    for (const role of ['over-training-bistable', 'over-training-gradient', 'over-training-retention']) {
      const n = Number((await panel.locator(`canvas[data-role="${role}"]`).getAttribute('data-points')) ?? 0);
      assert.ok(n >= 2, `${role}: ${n} points`);
    }
    assert.match((await section.locator('.caption').textContent()) ?? '', /^\d+ diagnosed snapshots \(steps 1–\d+\)/);
    await section.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(OUT, 'over-training.png') });
  });
});
