/**
 * An HTML report of a diagnosis with only some sections (diagnose --sections retention --html) renders
 * without console errors: the views of the absent sections must not touch their missing data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderHtmlReport } from '../../core/report/html';
import { diagnose } from '../../core/diagnostics/diagnose';
import { buildWebview } from '../../scripts/build-webview.mjs';
import { chromiumSkip, openWatchedPage, scratchDir, waitFor } from '../helpers/browser';
import { makeModel } from '../helpers/diag-models';

const ROOT = join(__dirname, '..', '..');

test(
  'HTML report with only the retention (or only the memory) section: no console errors',
  { skip: chromiumSkip, timeout: 120_000 },
  async (t) => {
    const work = scratchDir('lens-sections-');
    const assets = join(work, 'assets');
    await buildWebview(ROOT, assets);
    const model = makeModel([{ cell: 'brc', units: 6 }], { seed: 2, task: { name: 'copy', T: 20 } });
    const files: [string, string][] = [];
    for (const sections of [['retention'], ['memory']] as const) {
      const report = diagnose(model, {
        task: 'copy',
        T: 20,
        batch: 16,
        seed: 1,
        sections: [...sections],
        retention: { batch: 16, probeTrain: 32 },
        memory: { batch: 32 },
      });
      const file = join(work, `${sections[0]}.html`);
      writeFileSync(file, renderHtmlReport(report, { assetsDir: assets }));
      files.push([sections[0], file]);
    }
    const opened = await openWatchedPage(t, work);
    if (!opened) return;
    const { ctx, page, problems } = opened;
    try {
      for (const [section, file] of files) {
        await t.test(section, async () => {
          problems.length = 0;
          await page.goto(pathToFileURL(file).href);
          await waitFor(
            page,
            section === 'retention'
              ? `(document.getElementById('status')?.textContent ?? '').includes('rendered view=retention')`
              : `!!document.querySelector('.run-summary')`,
            20_000,
          );
          await page.waitForTimeout(500);
          // The absent sections are hidden, not drawn empty.
          assert.equal(
            await page.evaluate(
              `(() => { const s = document.querySelector('section[data-view="bistability"]'); return s ? s.closest('[hidden]') !== null : 'missing'; })()`,
            ),
            true,
          );
          assert.deepEqual(problems, []);
        });
      }
    } finally {
      await ctx.close();
      rmSync(work, { recursive: true, force: true });
    }
  },
);
