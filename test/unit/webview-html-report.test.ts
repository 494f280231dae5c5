import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embedJson, renderHtmlReport } from '../../core/report/html';
import type { ReportPayload } from '../../core/report/payload';
import { buildFixtureReport } from '../helpers/report-fixture';

function fakeAssets(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lens-assets-'));
  writeFileSync(join(dir, 'report.js'), 'console.log("</script><b>");');
  writeFileSync(join(dir, 'panel.css'), 'body{color:red}');
  writeFileSync(join(dir, 'report-theme.css'), ':root{--x:1}');
  return dir;
}

test('embedJson: no "<" survives, and the text parses back to the same value', () => {
  const v = { s: '</script><!-- <script>alert(1)</script>', n: [1, 2.5], u: 'line\u2028sep' };
  const text = embedJson(v);
  assert.ok(!text.includes('<'));
  assert.deepEqual(JSON.parse(text), v);
});

test('renderHtmlReport: one self-contained file, CSP nonce on every inline block, data recoverable', () => {
  const report = buildFixtureReport({ layers: 1, units: 4, T: 6, B: 2, name: '</script><script>alert(1)</script>' });
  const html = renderHtmlReport(report, { assetsDir: fakeAssets() });
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
  assert.ok(csp, 'has a CSP meta tag');
  assert.match(csp[1], /default-src 'none'/);
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp[1])?.[1];
  assert.ok(nonce && nonce.length >= 16);
  assert.ok(!csp[1].includes('unsafe'));
  // Every executable script and style carries the nonce; the only other script is the JSON data block.
  const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
  assert.deepEqual(scripts, [' type="application/json" id="report-data"', ` nonce="${nonce}"`]);
  const styles = [...html.matchAll(/<style([^>]*)>/g)].map((m) => m[1]);
  assert.deepEqual(styles, [` nonce="${nonce}"`, ` nonce="${nonce}"`]);
  assert.equal(html.match(/<\/script>/gi)?.length, 2, 'no early </script> from the data or the bundle');
  const data = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1];
  const payload = JSON.parse(data) as ReportPayload;
  assert.equal(payload.items.length, 1);
  assert.deepEqual(payload.items[0].report, JSON.parse(JSON.stringify(report)));
  assert.equal(payload.items[0].label, report.model.name);
  assert.ok(html.includes('&#60;/script&#62;'), 'the title is HTML-escaped');
  assert.ok(html.includes(':root{--x:1}') && html.includes('body{color:red}'));
  assert.notEqual(nonce, /nonce-([^']+)'/.exec(renderHtmlReport(report, { assetsDir: fakeAssets() }))?.[1], 'fresh nonce per file');
});

test('renderHtmlReport: several reports become one payload with labels', () => {
  const a = buildFixtureReport({ layers: 1, units: 3, T: 5, B: 2, seed: 1 });
  const b = buildFixtureReport({ layers: 1, units: 3, T: 5, B: 2, seed: 2, cell: 'nbrc' });
  const html = renderHtmlReport([a, b], { assetsDir: fakeAssets(), title: 'Compare', labels: ['first', 'second'] });
  const data = JSON.parse(/id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]) as ReportPayload;
  assert.equal(data.title, 'Compare');
  assert.deepEqual(
    data.items.map((i) => i.label),
    ['first', 'second'],
  );
  assert.throws(() => renderHtmlReport([], { assetsDir: fakeAssets() }));
  assert.throws(() => renderHtmlReport(a, { assetsDir: join(tmpdir(), 'does-not-exist-lens') }));
});
