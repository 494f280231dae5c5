/**
 * End-to-end: renders a standalone HTML report (webview bundles built from the current sources) in
 * Debian Chromium via playwright-core, in light and dark colour schemes. Checks the bistability heatmap's
 * pixels against the fixture's data, the charts' series, keyboard and mouse interaction, CSV download,
 * and that there are no console errors or CSP violations. Screenshots go to test-output/screenshots/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { renderHtmlReport } from '../../core/report/html';
import { buildWebview } from '../../scripts/build-webview.mjs';
import { attr, chromiumSkip, openWatchedPage, scratchDir, waitFor } from '../helpers/browser';
import { buildFixtureReport } from '../helpers/report-fixture';

const ROOT = join(__dirname, '..', '..');
type Box = { x: number; y: number; w: number; h: number; text?: string };
const SHOTS = join(ROOT, 'test-output', 'screenshots');

/** Classifies the heatmap's pixels by hue side: red-ish (a > 1), blue-ish (a < 1), neutral grey. */
const PIXEL_STATS = `(() => {
  const c = document.querySelector('section[data-view="bistability"] canvas[data-role="heatmap-base"]');
  const ctx = c.getContext('2d');
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  const bg = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number);
  let warm = 0, cool = 0, neutral = 0, background = 0;
  for (let i = 0; i < d.length; i += 4) {
    const r = d[i], g = d[i + 1], b = d[i + 2];
    if (r === bg[0] && g === bg[1] && b === bg[2]) background++;
    else if (r > b) warm++;
    else if (b > r) cool++;
    else neutral++;
  }
  return { warm, cool, neutral, background, total: d.length / 4, painted: Number(c.dataset.painted), width: c.width, height: c.height };
})()`;

test('standalone HTML report in Chromium', { skip: chromiumSkip, timeout: 120_000 }, async (t) => {
  const work = scratchDir('lens-report-');
  const assets = join(work, 'assets');
  await buildWebview(ROOT, assets);
  mkdirSync(SHOTS, { recursive: true });
  const report = buildFixtureReport({ layers: 3, units: 24, T: 80, B: 8, seed: 3, name: 'BRC 3×24 (fixture)' });
  const other = buildFixtureReport({ layers: 2, units: 16, T: 80, B: 8, seed: 5, cell: 'nbrc', name: 'nBRC 2×16 (fixture)' });
  const single = join(work, 'report.html');
  const compare = join(work, 'compare.html');
  writeFileSync(single, renderHtmlReport(report, { assetsDir: assets }));
  writeFileSync(compare, renderHtmlReport([report, other], { assetsDir: assets, title: 'Comparison' }));

  // Expected heatmap colour sides from the data: all layers are shown, coloured by a.
  let above = 0;
  let below = 0;
  for (const L of report.bistability.layers) {
    for (const row of L.a) {
      for (const a of row) {
        if (a > 1) above++;
        else if (a < 1) below++;
      }
    }
  }
  const expectedWarm = above / (above + below);

  const opened = await openWatchedPage(t, work);
  if (!opened) return;
  const { ctx, page, problems } = opened;
  try {
    const open = async (file: string, scheme: 'light' | 'dark') => {
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(pathToFileURL(file).href);
      await waitFor(
        page,
        `(() => { const s = document.getElementById('status'); return !!s && ['bistability', 'gradientFlow', 'retention', 'fixedPoints'].every((v) => s.textContent.includes('rendered view=' + v)); })()`,
        20_000,
      );
    };

    for (const scheme of ['light', 'dark'] as const) {
      await t.test(`${scheme}: heatmap pixels follow the data, charts have their series`, async () => {
        await open(single, scheme);
        const bg = (await page.evaluate(`getComputedStyle(document.body).backgroundColor`)) as string;
        assert.equal(bg, scheme === 'light' ? 'rgb(255, 255, 255)' : 'rgb(31, 31, 31)', 'theme defaults follow prefers-color-scheme');
        const px = (await page.evaluate(PIXEL_STATS)) as Record<string, number>;
        const warm = px.warm / (px.warm + px.cool);
        t.diagnostic(
          `${scheme}: heatmap ${px.width}x${px.height}, warm ${px.warm}, cool ${px.cool}, neutral ${px.neutral}, background ${px.background}; warm fraction ${warm.toFixed(3)} vs data ${expectedWarm.toFixed(3)}`,
        );
        assert.ok(px.warm > 0 && px.cool > 0, 'both sides of a = 1 are painted');
        assert.ok(Math.abs(warm - expectedWarm) < 0.03, `warm fraction ${warm} vs cells with a > 1: ${expectedWarm}`);
        // Everything but the two separator rows between the three layers is data.
        const gapRows = px.height / (3 * 24 + 2);
        assert.ok(Math.abs(px.background - 2 * gapRows * px.width) <= 2 * px.width, `background pixels ${px.background}`);
        assert.equal(px.painted, px.total - px.background, 'painted count reported in the status matches the canvas');
        const status = (await page.textContent('#status')) ?? '';
        assert.match(status, new RegExp(`rendered view=bistability layers=3 cells=${3 * 24 * 80} painted=${px.painted}`));

        assert.equal(await page.evaluate(attr('canvas[data-role="gradient-norm"]', 'data-series')), '3', 'one gradient series per layer');
        assert.ok(Number(await page.evaluate(attr('canvas[data-role="gradient-norm"]', 'data-points'))) >= 3 * 70);
        assert.equal(await page.evaluate(attr('canvas[data-role="retention-mse"]', 'data-points')), '5');
        assert.ok(Number(await page.evaluate(attr('canvas[data-role="retention-r2"]', 'data-points'))) >= 3 * 80);
        // Three trajectories, the observed one, and stable / unstable / marginal points.
        assert.equal(await page.evaluate(attr('canvas[data-role="fixed-points"]', 'data-series')), '7');
        // The chart canvases really drew something (not only the background).
        const inked = (await page.evaluate(`(() => {
          const c = document.querySelector('canvas[data-role="gradient-norm"]');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) n++;
          return n; })()`)) as number;
        assert.ok(inked > 2000, `gradient chart inked pixels: ${inked}`);
        await page.screenshot({ path: join(SHOTS, `report-${scheme}.png`), fullPage: true });
      });
    }

    await t.test('click and keyboard select a neuron and open its trajectory and fixed-point diagram', async () => {
      await open(single, 'dark');
      const overlay = 'section[data-view="bistability"] canvas[data-role="heatmap-overlay"]';
      const box = (await page.locator(overlay).boundingBox())!;
      // Layer 1, neuron 5 at t = 40 (rows are 24 + gap + 24 + gap + 24).
      const rows = 3 * 24 + 2;
      await page.mouse.move(box.x + box.width * (40.5 / 80), box.y + box.height * (5.5 / rows));
      const tip = (await page.textContent('section[data-view="bistability"] .tooltip')) ?? '';
      assert.match(tip, /Layer 1 · neuron 5 · t = 40/);
      const a = report.bistability.layers[0].a[40][5];
      assert.ok(tip.includes(`a = ${Number(a.toPrecision(3))}`), `tooltip ${tip} should show a = ${a}`);
      await page.mouse.click(box.x + box.width * (40.5 / 80), box.y + box.height * (5.5 / rows));
      assert.equal(await page.evaluate(attr(overlay, 'data-selected-row')), '5');
      assert.match((await page.textContent('#status')) ?? '', /selected=0:5/);
      assert.equal(await page.isVisible('section[data-view="bistability"] .neuron-detail'), true);
      // The detail charts are built at the next animation frame.
      await waitFor(page, `Number(${attr('canvas[data-role="fixed-point-diagram"]', 'data-points')}) > 10`);
      assert.ok(Number(await page.evaluate(attr('canvas[data-role="neuron-trajectory"]', 'data-points'))) >= 4 * 80);
      await page.focus(overlay);
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowRight');
      assert.equal(await page.evaluate(attr(overlay, 'data-selected-row')), '6');
      assert.equal(await page.evaluate(attr(overlay, 'data-selected-col')), '41');
      // Down from the last neuron of layer 1 skips the separator row into layer 2.
      for (let i = 0; i < 18; i++) await page.keyboard.press('ArrowDown');
      assert.equal(await page.evaluate(attr(overlay, 'data-selected-row')), '25');
      assert.match((await page.textContent('#status')) ?? '', /selected=1:0/);
      await page.mouse.move(0, 0);
      await page.locator('section[data-view="bistability"]').screenshot({ path: join(SHOTS, 'bistability-neuron-dark.png') });
    });

    await t.test('toolbar controls work from the keyboard and keep focus after re-rendering', async () => {
      await open(single, 'light');
      await page.focus('section[data-view="bistability"] vscode-single-select');
      await page.keyboard.press('Enter');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      await waitFor(page, `document.getElementById('status').textContent.includes('rendered view=bistability layers=1 cells=${24 * 80} ')`);
      await waitFor(page, `document.activeElement && document.activeElement.getAttribute('aria-label') === 'Layer'`, 2_000);
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(`document.activeElement.getAttribute('aria-label')`), 'Colour');
    });

    await t.test('Export CSV downloads the view data in the standalone report', async () => {
      await open(single, 'light');
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.click('section[data-view="retention"] vscode-button:has-text("Export CSV")'),
      ]);
      assert.equal(download.suggestedFilename(), 'retention.csv');
      const text = readFileSync((await download.path())!, 'utf8');
      const lines = text.trim().split('\n');
      // The interval columns follow the value (empty for this fixture, whose retention has no intervals).
      assert.equal(lines[0], 'run,series,layer,x,value,ci95_lo,ci95_hi,n,interval_method');
      assert.equal(lines.length, 1 + 5 + 3 * 80);
      const [dlPng] = await Promise.all([
        page.waitForEvent('download'),
        page.click('section[data-view="gradientFlow"] vscode-button:has-text("Export PNG")'),
      ]);
      assert.match(dlPng.suggestedFilename(), /^gradient flow BRC 3.24 \(fixture\)\.png$/);
      const png = readFileSync((await dlPng.path())!);
      assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    });

    await t.test('comparison report overlays both runs in retention and gradient flow', async () => {
      await open(compare, 'light');
      assert.equal(await page.evaluate(attr('canvas[data-role="retention-mse"]', 'data-series')), '2');
      assert.equal(await page.evaluate(attr('canvas[data-role="retention-r2"]', 'data-series')), String(3 + 2));
      // Gradient flow: every layer of both runs on the norm and Jacobian charts, labelled by run.
      assert.equal(await page.evaluate(attr('canvas[data-role="gradient-norm"]', 'data-series')), String(3 + 2));
      assert.equal(await page.evaluate(attr('canvas[data-role="gradient-jacobian"]', 'data-series')), String(3 + 2));
      assert.match((await page.textContent('#status')) ?? '', /rendered view=gradientFlow series=5 /);
      await page.screenshot({ path: join(SHOTS, 'compare-light.png'), fullPage: true });
      // Unticking "Overlay runs" leaves the selected run's three layers.
      await page.click('section[data-view="gradientFlow"] vscode-checkbox[label="Overlay runs"]');
      await waitFor(page, `document.querySelector('canvas[data-role="gradient-norm"]').getAttribute('data-series') === '3'`, 5_000);
      assert.match((await page.textContent('#status')) ?? '', /rendered view=gradientFlow series=3 /);
    });

    await t.test('no debug text is visible; the bistability heatmap has time and neuron ticks; legends read plainly', async () => {
      await open(single, 'dark');
      // The render log stays readable for tests but is neither shown nor read out.
      assert.match((await page.textContent('#status')) ?? '', /rendered view=bistability/);
      assert.equal(await page.isVisible('#status'), false);
      assert.equal(await page.evaluate(attr('#status', 'aria-hidden')), 'true');
      assert.equal(
        ((await page.evaluate('document.body.innerText')) as string).includes('rendered view='),
        false,
        'debug text visible in the report',
      );
      const sel = 'section[data-view="bistability"]';
      const xt = ((await page.evaluate(attr(`${sel} [data-role="heatmap-xticks"]`, 'data-ticks'))) as string).split(' ').map(Number);
      const yt = ((await page.evaluate(attr(`${sel} [data-role="heatmap-yticks"]`, 'data-ticks'))) as string).split(' ').map(Number);
      t.diagnostic(`heatmap ticks: t ${xt.join(',')}; neurons ${yt.join(',')}`);
      assert.ok(xt.length >= 3 && xt[0] === 0 && xt.every((v) => v < 80), `time ticks ${xt}`);
      // Neurons numbered per layer: each of the three 24-unit layers starts at 0.
      assert.equal(yt.filter((v) => v === 0).length, 3, `neuron ticks ${yt}`);
      assert.ok(yt.every((v) => v < 24));
      // The labels are on screen, beside and below the map, and do not overlap one another.
      const boxes = (await page.evaluate(`(() => {
        const map = document.querySelector('${sel} canvas[data-role="heatmap-base"]').getBoundingClientRect();
        const r = (q) => [...document.querySelectorAll('${sel} ' + q + ' .heatmap-tick')].map((e) => { const b = e.getBoundingClientRect(); return { x: b.left, y: b.top, w: b.width, h: b.height, text: e.textContent }; });
        return { map: { x: map.left, y: map.top, w: map.width, h: map.height }, x: r('[data-role="heatmap-xticks"]'), y: r('[data-role="heatmap-yticks"]') }; })()`)) as {
        map: Box;
        x: Box[];
        y: Box[];
      };
      for (const b of boxes.x) assert.ok(b.w > 0 && b.y >= boxes.map.y + boxes.map.h - 1, `time tick ${b.text} below the map`);
      for (const b of boxes.y) assert.ok(b.w > 0 && b.x + b.w <= boxes.map.x + 1, `neuron tick ${b.text} left of the map`);
      for (let i = 1; i < boxes.x.length; i++) assert.ok(boxes.x[i].x >= boxes.x[i - 1].x + boxes.x[i - 1].w, 'time ticks overlap');
      for (let i = 1; i < boxes.y.length; i++) assert.ok(boxes.y[i].y >= boxes.y[i - 1].y + boxes.y[i - 1].h - 0.5, 'neuron ticks overlap');
      const legend = (await page.evaluate(attr('canvas[data-role="fraction-bistable"]', 'data-legend'))) as string;
      assert.deepEqual(legend.split('|').slice(0, 2), ['layer 1: a > 1', 'layer 1: three fixed points']);
      await page.locator(sel).screenshot({ path: join(SHOTS, 'bistability-axes-dark.png') });
    });

    await t.test('no console errors, warnings or CSP violations', () => {
      assert.deepEqual(problems, []);
    });

    await t.test('timing: heatmap of 100 × 10 000 cells in the browser', async () => {
      const bundle = await build({
        entryPoints: [join(__dirname, 'heatmap-bench.entry.mjs')],
        bundle: true,
        format: 'iife',
        platform: 'browser',
        target: 'es2022',
        write: false,
        logLevel: 'warning',
      });
      const js = bundle.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
      const bench = await ctx.newPage();
      await bench.setViewportSize({ width: 1280, height: 900 });
      await bench.setContent(`<!DOCTYPE html><html><body><div id="host"></div><script>${js}</script></body></html>`);
      await waitFor(bench, 'window.benchResult !== undefined', 30_000);
      const r = (await bench.evaluate('window.benchResult')) as Record<string, number>;
      t.diagnostic(
        `browser heatmap 100x10000 cells -> ${r.width}x${r.height} px: median ${r.medianMs.toFixed(1)} ms (min ${r.minMs.toFixed(1)}, max ${r.maxMs.toFixed(1)})`,
      );
      assert.equal(r.cells, 1_000_000);
      assert.equal(r.painted, r.width * r.height);
    });
  } finally {
    await ctx.close();
    rmSync(work, { recursive: true, force: true });
  }
});
