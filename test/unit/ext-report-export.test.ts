import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderReportHtml } from '../../extension/report-export';
import { buildFixtureReport } from '../helpers/report-fixture';

test("Export Report titles the page with the model's name", () => {
  const dir = mkdtempSync(join(tmpdir(), 'lens-assets-'));
  for (const f of ['report.js', 'panel.css', 'report-theme.css']) writeFileSync(join(dir, f), '');
  const report = buildFixtureReport({ layers: 1, units: 4, T: 6, B: 2 });
  const html = renderReportHtml(report, { assetsDir: dir, label: 'torch-gru.pt' });
  assert.match(html, /<title>RNN Memory Lens: torch-gru\.pt<\/title>/);
  assert.match(html, /<h1>RNN Memory Lens: torch-gru\.pt<\/h1>/);
  const unnamed = renderReportHtml(report, { assetsDir: dir });
  assert.doesNotMatch(unnamed, /torch-gru/, 'without a label the report keeps its own title');
});
