// Browser bundles of the webviews (panels and standalone report) and their CSS. Used by build.mjs and by
// the browser test, which builds into a temporary folder so it always tests the current sources.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export async function buildWebview(root, outDir) {
  mkdirSync(outDir, { recursive: true });
  const common = {
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  };
  await Promise.all([
    build({ ...common, entryPoints: [join(root, 'webview/panel-main.ts')], outfile: join(outDir, 'panel.js') }),
    build({ ...common, entryPoints: [join(root, 'webview/report-main.ts')], outfile: join(outDir, 'report.js') }),
    build({ ...common, entryPoints: [join(root, 'webview/styles/panel.css')], outfile: join(outDir, 'panel.css') }),
    build({ ...common, entryPoints: [join(root, 'webview/styles/report-theme.css')], outfile: join(outDir, 'report-theme.css') }),
  ]);
}
