// Bundles every entry point with esbuild and prepares runtime data files in dist/.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareMnist } from './prepare-mnist.mjs';
import { buildWebview } from './build-webview.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });

const nodeEntries = [
  { in: 'core/cli/main.ts', out: 'cli.js', banner: '#!/usr/bin/env node' },
  { in: 'core/train/worker-entry.ts', out: 'train-worker.js' },
  { in: 'bench/main.ts', out: 'bench.js' },
  { in: 'extension/extension.ts', out: 'extension.js' },
  { in: 'core/diagnostics/worker-entry.ts', out: 'diagnose-worker.js' },
];

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  // vscode is provided by the host; tfjs-node is optional and loaded only when present.
  external: ['vscode', '@tensorflow/tfjs-node'],
  logLevel: 'warning',
};

// Custom cells (core/custom/load.ts) transpile the user's TypeScript at run time with the TypeScript compiler,
// loaded from dist/typescript.js so that the packaged extension and CLI need no node_modules.
const typescriptCopy = build({
  entryPoints: [join(root, 'node_modules', 'typescript', 'lib', 'typescript.js')],
  outfile: join(dist, 'typescript.js'),
  minify: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
});
await Promise.all(
  nodeEntries
    .filter((e) => existsSync(join(root, e.in)))
    .map((e) =>
      build({
        ...common,
        entryPoints: [join(root, e.in)],
        outfile: join(dist, e.out),
        banner: e.banner ? { js: e.banner } : undefined,
      }),
    ),
);
await typescriptCopy;
// Webviews: dist/webview/panel.js, report.js (browser IIFE bundles), panel.css, report-theme.css.
await buildWebview(root, join(dist, 'webview'));
prepareMnist(root, join(dist, 'data'));
// The PyTorch bridge's helper runs in the user's Python; core/torch/python.ts finds it next to the bundles.
mkdirSync(join(dist, 'python'), { recursive: true });
copyFileSync(join(root, 'python', 'rnn_memory_bridge.py'), join(dist, 'python', 'rnn_memory_bridge.py'));
await (await import('./build-native.mjs')).buildNative(root); // fast engine addon; warns and continues if it cannot be built
await (await import('./build-wasm.mjs')).buildWasm(root); // WebAssembly engine; says so and continues without clang
