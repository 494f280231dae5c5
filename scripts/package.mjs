// Packages the extension as a .vsix with @vscode/vsce. Everything the extension runs is bundled into dist/
// (extension, workers, webview, data, native addon, wasm module), so the package is staged in a temporary folder holding
// only those files and the manifest (vsce would otherwise walk node_modules/ and .e2e/), with
// --no-dependencies. .vscodeignore states the same selection for anyone running vsce in the repository.
// Usage: node scripts/package.mjs [--out FILE.vsix]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(root, `${pkg.name}-${pkg.version}.vsix`);

const required = [
  'dist/extension.js',
  'dist/train-worker.js',
  'dist/diagnose-worker.js',
  'dist/cli.js',
  'dist/typescript.js',
  'dist/data/mnist.bin',
  'dist/webview/panel.js',
  'dist/webview/panel.css',
  'dist/python/rnn_memory_bridge.py',
  'media/icon.svg',
];
const missing = required.filter((f) => !existsSync(join(root, f)));
if (missing.length) {
  console.error(`package: missing ${missing.join(', ')}; run \`npm run build\` first`);
  process.exit(1);
}

const stage = mkdtempSync(join(tmpdir(), 'rnn-memory-vsix-'));
try {
  const copy = (rel) => {
    mkdirSync(dirname(join(stage, rel)), { recursive: true });
    cpSync(join(root, rel), join(stage, rel), { recursive: true });
  };
  for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']) if (existsSync(join(root, f))) copy(f);
  copy('media');
  for (const f of ['extension.js', 'train-worker.js', 'diagnose-worker.js', 'cli.js', 'typescript.js']) copy(join('dist', f));
  copy('dist/data');
  copy('dist/python/rnn_memory_bridge.py');
  for (const f of readdirSync(join(root, 'dist', 'webview'))) if (!f.endsWith('.map')) copy(join('dist', 'webview', f));
  // Only the built addon(s), not their object files.
  if (existsSync(join(root, 'dist', 'native')))
    for (const f of readdirSync(join(root, 'dist', 'native'))) if (f.endsWith('.node')) copy(join('dist', 'native', f));
  // The WebAssembly engine (platform-independent): the module only.
  if (existsSync(join(root, 'dist', 'wasm', 'rnn_kernels.wasm'))) copy('dist/wasm/rnn_kernels.wasm');

  const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  // The README's relative links (docs/…) stay relative: there is no public repository URL to prefix.
  const args = [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out];
  if (!existsSync(join(stage, 'LICENSE'))) args.push('--skip-license');
  const r = spawnSync(process.execPath, args, { cwd: stage, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) process.exit(r.status ?? 1);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
console.log(`package: ${out} (${(statSync(out).size / 1024).toFixed(0)} KiB)`);
