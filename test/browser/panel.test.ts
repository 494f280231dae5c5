/**
 * The VS Code panel bundle (dist/webview/panel.js) in Chromium, with a fake acquireVsCodeApi and the
 * webview CSP: ready handshake, message validation, training events batched into few redraws, the Stop
 * button, exports, Inspector commands, and view state restored after a reload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildWebview } from '../../scripts/build-webview.mjs';
import { parseWebviewMessage, type TrainingSnapshot } from '../../webview/protocol';
import { attr, chromiumSkip, openWatchedPage, scratchDir, waitFor } from '../helpers/browser';
import { buildFixtureReport } from '../helpers/report-fixture';

const ROOT = join(__dirname, '..', '..');
const SHOTS = join(ROOT, 'test-output', 'screenshots');
const NONCE = 'dGVzdC1ub25jZS0xMjM0NQ==';

/** The page the extension host would serve, with a fake VS Code API that records posts and keeps state in window.name. */
function panelHtml(): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src file: blob: data:; font-src file:; style-src file:; script-src 'nonce-${NONCE}';">
<link rel="stylesheet" href="report-theme.css"><link rel="stylesheet" href="hc-theme.css"><link rel="stylesheet" href="panel.css"></head>
<body class="vscode-dark">
<script nonce="${NONCE}">
window.__posted = [];
window.acquireVsCodeApi = () => ({
  postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
  getState: () => (window.name ? JSON.parse(window.name) : undefined),
  setState: (s) => { window.name = JSON.stringify(s); },
});
</script>
<script nonce="${NONCE}" src="panel.js"></script></body></html>`;
}

test('VS Code panel bundle in Chromium', { skip: chromiumSkip, timeout: 120_000 }, async (t) => {
  const work = scratchDir('lens-panel-');
  const assets = join(work, 'assets');
  await buildWebview(ROOT, assets);
  mkdirSync(SHOTS, { recursive: true });
  writeFileSync(join(assets, 'panel.html'), panelHtml());
  // What VS Code's High Contrast (dark) theme sets, applied when the test switches the body class.
  writeFileSync(
    join(assets, 'hc-theme.css'),
    `body.vscode-high-contrast { --vscode-foreground: #ffffff; --vscode-editor-background: #000000; --vscode-descriptionForeground: #ffffff;
      --vscode-contrastBorder: #6fc3df; --vscode-focusBorder: #f38518; --vscode-charts-red: #f14c4c; --vscode-charts-blue: #3794ff;
      --vscode-charts-green: #89d185; --vscode-charts-yellow: #ffd700; --vscode-charts-orange: #d18616; --vscode-charts-purple: #b180d7; }`,
  );
  const opened = await openWatchedPage(t, work);
  if (!opened) return;
  const { ctx, page, problems } = opened;
  try {
    await page.emulateMedia({ colorScheme: 'dark' });
    const send = (m: unknown) => page.evaluate(`window.postMessage(${JSON.stringify(m)}, '*')`);
    const posted = async () => (await page.evaluate('window.__posted')) as Record<string, unknown>[];
    await page.goto(pathToFileURL(join(assets, 'panel.html')).href);
    await waitFor(page, 'window.__posted.length > 0');

    await t.test('handshake, and malformed messages are rejected with an error post', async () => {
      assert.deepEqual((await posted())[0], { type: 'ready' });
      await send({ type: 'init', view: 'nope', title: 'x' });
      await send({ type: 'report', label: 'missing report' });
      await waitFor(page, 'window.__posted.length >= 3');
      const errs = (await posted()).filter((m) => m.type === 'error');
      assert.equal(errs.length, 2);
      for (const e of errs) assert.ok(parseWebviewMessage(e), 'the host guard accepts what the webview posts');
    });

    await t.test('training: 2000 events are applied but redrawn in a few frames; Stop posts stopTraining', async () => {
      const snapshot: TrainingSnapshot = {
        runId: 'run-1',
        label: 'brc copy T=50',
        config: {} as TrainingSnapshot['config'],
        status: 'running',
        step: 0,
        totalSteps: 2000,
        stepsPerSec: 0,
        etaMs: null,
        metricName: 'mse',
        points: [],
      };
      await send({ type: 'init', view: 'training', title: 'Training' });
      await send({ type: 'training', snapshot });
      await page.evaluate(`(() => {
        window.__statusChanges = 0;
        new MutationObserver(() => window.__statusChanges++).observe(document.getElementById('status'), { childList: true, characterData: true, subtree: true });
        for (let i = 1; i <= 2000; i++) {
          window.postMessage({ type: 'trainingEvent', runId: 'run-1', event: { type: 'progress', step: i, totalSteps: 2000, loss: 1 / Math.sqrt(i), stepsPerSec: 500, skipped: 0, elapsedMs: i * 2 } }, '*');
          if (i % 100 === 0) window.postMessage({ type: 'trainingEvent', runId: 'run-1', event: { type: 'eval', step: i, testLoss: 1.2 / Math.sqrt(i), metric: 1.1 / Math.sqrt(i), metricName: 'mse' } }, '*');
        }
        window.postMessage({ type: 'trainingEvent', runId: 'other-run', event: { type: 'progress', step: 5, totalSteps: 9, loss: 9, stepsPerSec: 1, skipped: 0, elapsedMs: 1 } }, '*');
      })()`);
      await waitFor(page, `document.getElementById('status').textContent.includes('step=2000')`);
      const changes = (await page.evaluate('window.__statusChanges')) as number;
      t.diagnostic(`2020 training events -> ${changes} redraws`);
      assert.ok(changes < 200, `redraws are batched per animation frame (${changes})`);
      assert.equal(await page.evaluate(attr('canvas[data-role="training-loss"]', 'data-points')), String(2000 + 20 + 20));
      assert.match((await page.textContent('.stats')) ?? '', /step 2000 \/ 2000 · 500 steps\/s/);
      await page.screenshot({ path: join(SHOTS, 'panel-training-dark.png') });
      await page.click('vscode-button:has-text("Stop")');
      await waitFor(page, `window.__posted.some((m) => m.type === 'stopTraining')`);
      assert.deepEqual(
        (await posted()).find((m) => m.type === 'stopTraining'),
        { type: 'stopTraining', runId: 'run-1' },
      );
      await send({
        type: 'trainingEvent',
        runId: 'run-1',
        event: { type: 'done', step: 2000, reason: 'cancelled', modelPath: '/m', skipped: 0 },
      });
      await waitFor(page, `document.getElementById('status').textContent.includes('status=stopped')`);
      assert.equal(await page.evaluate(attr('section[data-view="training"] vscode-button', 'disabled')), '');
    });

    await t.test('exports post PNG data URLs and CSV with names the host accepts', async () => {
      await page.click('vscode-button:has-text("Export PNG")');
      await page.click('vscode-button:has-text("Export CSV")');
      await waitFor(page, `window.__posted.some((m) => m.type === 'exportCsv')`);
      const png = (await posted()).find((m) => m.type === 'exportPng')!;
      const csv = (await posted()).find((m) => m.type === 'exportCsv')!;
      assert.ok(parseWebviewMessage(png), `host accepts ${String(png.filename)}`);
      assert.ok(parseWebviewMessage(csv));
      assert.equal(png.filename, 'training brc copy T=50.png'.replace('=', '-'));
      assert.equal(String(csv.csv).split('\n')[0], 'step,loss,test_loss,mse');
    });

    await t.test('bistability state survives a reload (selected layer and neuron)', async () => {
      const report = buildFixtureReport({ layers: 2, units: 12, T: 40, B: 4, seed: 11 });
      await send({ type: 'init', view: 'bistability', title: 'Bistability' });
      await send({ type: 'report', label: 'fixture', report });
      await waitFor(page, `document.getElementById('status').textContent.includes('rendered view=bistability')`);
      // Figure 3: the input channel (T points) above the fractions, and the hold period's averages per layer.
      assert.equal(await page.evaluate(attr('canvas[data-role="input-channels"]', 'data-points')), '40');
      const hold = (await page.textContent('[data-role="hold-summary"]')) ?? '';
      // Each average with its 95 % interval over the 4 sequences (the fixture has none for truly bistable).
      assert.match(
        hold,
        /^Hold period \(t = 1…39, shaded\), markers dashed \(95 % intervals over sequences\): layer 1: \d+% a > 1 \(\d+%–\d+%, n = 4\), \d+% truly bistable, mean gate [0-9.]+ \([0-9.]+–[0-9.]+, n = 4\); layer 2: /,
      );
      // The interval bands: two datasets per layer in each chart beside the lines (a > 1 and 3 fixed points: 2 × 2 + 2 × 2).
      assert.equal(await page.evaluate(attr('canvas[data-role="fraction-bistable"]', 'data-series')), '8');
      const overlay = 'canvas[data-role="heatmap-overlay"]';
      await page.focus(overlay);
      // The first key selects neuron 0; three more move down to neuron 3.
      for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowDown');
      assert.match((await page.textContent('#status')) ?? '', /selected=0:3/);
      await page.waitForTimeout(300); // state is saved with a short debounce
      await page.reload();
      await waitFor(page, `document.getElementById('status').textContent.includes('selected=0:3')`);
      assert.equal(await page.evaluate(attr(overlay, 'data-selected-row')), '3');
      assert.equal(await page.isVisible('.neuron-detail'), true);
    });

    await t.test('a theme switch (to High Contrast) repaints with the new colours', async () => {
      const gapPixel = `(() => {
        const c = document.querySelector('canvas[data-role="heatmap-base"]');
        const y = Math.floor(c.height * 12.5 / 25); // the separator row between the two 12-unit layers
        // Read through a scratch canvas: repeated getImageData on the panel's canvas triggers a Chromium warning.
        const s = document.createElement('canvas'); s.width = s.height = 1;
        const g = s.getContext('2d'); g.drawImage(c, 5, y, 1, 1, 0, 0, 1, 1);
        return Array.from(g.getImageData(0, 0, 1, 1).data.slice(0, 3)); })()`;
      assert.deepEqual(await page.evaluate(gapPixel), [31, 31, 31], 'dark editor background between layers');
      await page.evaluate(`document.body.className = 'vscode-high-contrast'`);
      await waitFor(page, `${gapPixel}.join() === '0,0,0'`);
      await waitFor(page, `Number(${attr('canvas[data-role="fixed-point-diagram"]', 'data-points')}) > 10`);
      await page.locator('section[data-view="bistability"]').screenshot({ path: join(SHOTS, 'panel-bistability-high-contrast.png') });
      await page.evaluate(`document.body.className = 'vscode-dark'`);
    });

    await t.test('Inspector: architecture, diagnosis, and buttons post commands', async () => {
      const report = buildFixtureReport({ layers: 1, units: 8, T: 20, B: 2 });
      await send({ type: 'init', view: 'inspector', title: 'Inspector' });
      await send({
        type: 'inspector',
        model: {
          name: 'copy-brc.safetensors',
          path: '/work/models/copy-brc.safetensors',
          architecture: report.model.architecture,
          paramCount: report.model.paramCount,
          warnings: ['trained on T = 50 only'],
        },
        diagnosis: report.diagnosis,
        training: null,
      });
      await waitFor(page, `document.getElementById('status').textContent.includes('rendered view=inspector model=1')`);
      assert.match((await page.textContent('.arch')) ?? '', /Layer 1: BRC × 8/);
      await page.click('vscode-button:has-text("Bistability map")');
      await page.focus('vscode-button:has-text("Open model")');
      await page.keyboard.press('Enter');
      await waitFor(page, `window.__posted.filter((m) => m.type === 'command').length >= 2`);
      const cmds = (await posted()).filter((m) => m.type === 'command').map((m) => m.command);
      assert.deepEqual(cmds, ['showBistabilityMap', 'openModel']);
      await page.setViewportSize({ width: 320, height: 700 });
      await page.screenshot({ path: join(SHOTS, 'panel-inspector-dark.png') });
    });

    await t.test('Inspector: cell kinds as written in the paper, and a readout missing from the file shown as assumed', async () => {
      await send({ type: 'init', view: 'inspector', title: 'Inspector' });
      await send({
        type: 'inspector',
        model: {
          name: 'gru.pt',
          path: '/work/models/gru.pt',
          architecture: {
            inputSize: 3,
            layers: [
              { cell: 'nbrc', units: 16 },
              { cell: 'gru', units: 16 },
            ],
            readout: { units: 16, activation: 'linear', perStep: false, assumed: true },
          },
          paramCount: 1234,
          warnings: [],
        },
        diagnosis: [],
        training: null,
      });
      await waitFor(page, `document.querySelector('.model-name')?.textContent === 'gru.pt'`);
      const arch = (await page.textContent('.arch')) ?? '';
      assert.match(arch, /Layer 1: nBRC × 16/);
      assert.match(arch, /Layer 2: GRU × 16/);
      assert.match(arch, /Readout: none in the file/);
      assert.doesNotMatch(arch, /NBRC|16 linear/);
    });

    await t.test(
      'training: the log loss axis is readable over two decades and inside one; the legend lists only series that show',
      async () => {
        // Loss from `hi` down to `lo` geometrically; evaluations every 10 steps (copy: test MSE = test loss).
        const curve = (runId: string, hi: number, lo: number, metric: (testLoss: number) => number): TrainingSnapshot => ({
          runId,
          label: runId,
          config: {} as TrainingSnapshot['config'],
          status: 'completed',
          step: 100,
          totalSteps: 100,
          stepsPerSec: 50,
          etaMs: null,
          metricName: 'mse',
          points: Array.from({ length: 101 }, (_, s) => {
            const loss = hi * (lo / hi) ** (s / 100);
            return s % 10 === 0 ? { step: s, loss, testLoss: loss * 1.05, metric: metric(loss * 1.05) } : { step: s, loss };
          }),
        });
        const ticksOf = async () =>
          ((await page.evaluate(attr('canvas[data-role="training-loss"]', 'data-y-ticks'))) as string).split('|').filter(Boolean);
        const legendOf = async () => (await page.evaluate(attr('canvas[data-role="training-loss"]', 'data-legend'))) as string;
        await send({ type: 'init', view: 'training', title: 'Training' });
        for (const [hi, lo, want] of [
          [1, 0.01, 3],
          [0.3, 0.15, 2],
        ] as const) {
          const id = `copy-${hi}-${lo}`;
          await send({ type: 'training', snapshot: curve(id, hi, lo, (v) => v) });
          await waitFor(page, `document.querySelector('section[data-view="training"] h2').textContent.includes(${JSON.stringify(id)})`);
          const ticks = await ticksOf();
          t.diagnostic(`loss ${hi} → ${lo}: y tick labels ${ticks.join(', ')}`);
          assert.ok(ticks.length >= want, `${hi} → ${lo}: ${ticks.length} tick labels (${ticks})`);
          // Every label is a number on the plotted range (the axis may round out to the next tick) and no two read alike.
          for (const l of ticks) assert.ok(Number(l) >= lo / 2 && Number(l) <= hi * 1.05 * 2, `label ${l} for ${hi} → ${lo}`);
          assert.equal(new Set(ticks).size, ticks.length);
          assert.equal(await legendOf(), 'train loss|test loss', 'a test MSE equal to the test loss is not listed');
          // The stats line names that number as the legend does, once.
          const stats = (await page.textContent('section[data-view="training"] .stats')) ?? '';
          assert.equal(stats.match(/test loss/g)?.length, 1, stats);
          assert.doesNotMatch(stats, /MSE/, stats);
        }
        await send({ type: 'training', snapshot: curve('denoise-like', 1, 0.1, (v) => v / 2) });
        await waitFor(
          page,
          `document.querySelector('canvas[data-role="training-loss"]').getAttribute('data-legend') === 'train loss|test loss|test MSE'`,
        );
        assert.match((await page.textContent('section[data-view="training"] .stats')) ?? '', /· test MSE \S+$/);
        await page.locator('section[data-view="training"]').screenshot({ path: join(SHOTS, 'panel-training-log-axis.png') });
      },
    );

    await t.test('Over training: hidden without diagnoses; after two diagnosed snapshots three charts draw every number', async () => {
      const base: TrainingSnapshot = {
        runId: 'mon.over',
        label: 'monitored',
        config: {} as TrainingSnapshot['config'],
        status: 'running',
        step: 40,
        totalSteps: 0,
        stepsPerSec: 5,
        etaMs: null,
        metricName: 'mse',
        points: [10, 20, 30, 40].map((step) => ({ step, loss: 1 / step })),
      };
      const section = 'section[data-view="overTraining"]';
      await send({ type: 'init', view: 'training', title: 'Training' });
      await send({ type: 'training', snapshot: base });
      await waitFor(page, `document.querySelector('section[data-view="training"] h2').textContent.includes('monitored')`);
      assert.equal(await page.isVisible(section), false, 'no diagnosed snapshot: no Over-training view');
      const step = (n: number, f1: number, f2: number, ratio: number, recall: number, carriers: number) => ({
        step: n,
        fractionBistable: [f1, f2],
        gradientEndRatio: [{ value: ratio, lo: ratio / 2, hi: ratio * 2 }, null],
        retention: { delay: 50, value: recall, lo: recall - 0.1, hi: recall + 0.1 },
        memoryCarriers: carriers,
      });
      await send({
        type: 'training',
        snapshot: { ...base, diagnosed: [step(20, 0.1, 0.2, 0.5, 0.9, 1), step(40, 0.3, 0.4, 0.05, 0.2, 4)] },
      });
      await waitFor(page, `(document.querySelector('${section}')?.getAttribute('data-status') ?? '').includes('snapshots=2')`);
      assert.equal(await page.isVisible(section), true);
      const points = async (role: string) => Number(await page.evaluate(attr(`canvas[data-role="${role}"]`, 'data-points')));
      // 2 layers × 2 steps; layer 1's ratio with its two interval ends (layer 2 has none); recall ± ends, chance, carriers.
      assert.equal(await points('over-training-bistable'), 4);
      assert.equal(await points('over-training-gradient'), 6);
      assert.equal(await points('over-training-retention'), 2 * 3 + 2 + 2);
      const legend = (await page.evaluate(attr('canvas[data-role="over-training-retention"]', 'data-legend'))) as string;
      assert.match(legend, /recall of x₁ at delay 50: MSE \/ chance\|chance\|memory carriers/);
      assert.match((await page.textContent(`${section} .caption`)) ?? '', /2 diagnosed snapshots \(steps 20–40\)/);
      await page.locator('section[data-view="training"]').screenshot({ path: join(SHOTS, 'panel-over-training.png') });
    });

    await t.test('no debug text is visible in a panel (the render log is hidden and aria-hidden)', async () => {
      assert.match((await page.textContent('#status')) ?? '', /rendered view=training/);
      assert.equal(await page.isVisible('#status'), false);
      assert.equal(await page.evaluate(attr('#status', 'aria-hidden')), 'true');
      assert.equal(((await page.evaluate('document.body.innerText')) as string).includes('rendered view='), false);
    });

    await t.test('no console errors, warnings or CSP violations', () => {
      assert.deepEqual(problems, []);
    });
  } finally {
    await ctx.close();
    rmSync(work, { recursive: true, force: true });
  }
});
