/**
 * The bistability panel's memory carriers in a standalone HTML report (headless Chromium): the heatmap
 * outlines exactly the carriers' rows, the carriers table lists them, and a click on a table row opens the
 * neuron with its traces coloured by the target.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { diagnose, reportToJson } from '../../core/diagnostics/diagnose';
import type { DiagnosticReport } from '../../core/diagnostics/types';
import { renderHtmlReport } from '../../core/report/html';
import { buildWebview } from '../../scripts/build-webview.mjs';
import { attr, chromiumSkip, openWatchedPage, scratchDir, waitFor } from '../helpers/browser';
import { latchBatch, plantedLatchModel } from '../helpers/memory-models';

const ROOT = join(__dirname, '..', '..');
const SHOTS = join(ROOT, 'test-output', 'screenshots');

test('memory carriers in the bistability panel (Chromium)', { skip: chromiumSkip, timeout: 120_000 }, async (t) => {
  const work = scratchDir('lens-carriers-');
  const assets = join(work, 'assets');
  await buildWebview(ROOT, assets);
  const report = JSON.parse(
    reportToJson(diagnose(plantedLatchModel(), { input: latchBatch(64, 60, 1), sections: ['bistability', 'memory'] })),
  ) as DiagnosticReport;
  const file = join(work, 'report.html');
  writeFileSync(file, renderHtmlReport(report, { assetsDir: assets }));
  const opened = await openWatchedPage(t, work);
  if (!opened) return;
  const { ctx, page, problems } = opened;
  try {
    await page.goto(pathToFileURL(file).href);
    await waitFor(page, `(document.getElementById('status')?.textContent ?? '').includes('rendered view=bistability')`, 20_000);
    const overlay = 'section[data-view="bistability"] canvas[data-role="heatmap-overlay"]';
    // One layer shown: the carriers' rows are their neuron indices.
    const marked = String(await page.evaluate(attr(overlay, 'data-marked-rows')))
      .split(',')
      .map(Number)
      .sort();
    assert.deepEqual(marked, [...report.memory!.layers[0].carrierNeurons].sort());
    assert.deepEqual(marked, [0, 1]);
    const rows = await page.locator('[data-role="memory-carriers"] tbody tr').count();
    assert.equal(rows, 2);
    assert.match((await page.textContent('[data-role="memory-carriers"] .caption')) ?? '', /2 neurons carry y/);
    const first = report.memory!.carriers[0];
    await page.click(`[data-role="memory-carriers"] tr[data-carrier="0:${first.neuron}"]`);
    assert.equal(await page.evaluate(attr(overlay, 'data-selected-row')), String(first.neuron));
    await waitFor(page, `Number(${attr('canvas[data-role="carrier-traces"]', 'data-series')}) > 0`);
    // 16 traced sequences plus the window marker.
    assert.equal(await page.evaluate(attr('canvas[data-role="carrier-traces"]', 'data-series')), '17');
    mkdirSync(SHOTS, { recursive: true });
    await page.locator('section[data-view="bistability"]').screenshot({ path: join(SHOTS, 'report-memory-carriers.png') });
    // A neuron that is not a carrier has no traces chart.
    const box = (await page.locator(overlay).boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * (3.5 / 5));
    assert.equal(await page.evaluate(attr(overlay, 'data-selected-row')), '3');
    await waitFor(page, `document.querySelector('canvas[data-role="carrier-traces"]').parentElement.hidden === true`);
    assert.deepEqual(problems, []);
  } finally {
    await ctx.close();
    rmSync(work, { recursive: true, force: true });
  }
});
