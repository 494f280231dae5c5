// Packages the extension as a .vsix with @vscode/vsce. Everything the extension runs is bundled into dist/
// (extension, workers, webview, data), so node_modules is left out (--no-dependencies) and .vscodeignore
// keeps only dist/ runtime files, media/ and the manifest. Usage: node scripts/package.mjs [--out FILE.vsix]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(root, `${pkg.name}-${pkg.version}.vsix`);

const required = ['dist/extension.js', 'dist/train-worker.js', 'dist/diagnose-worker.js', 'dist/data/mnist.bin', 'dist/webview/panel.js', 'dist/webview/panel.css', 'media/icon.svg'];
const missing = required.filter((f) => !existsSync(join(root, f)));
if (missing.length) {
  console.error(`package: missing ${missing.join(', ')}; run \`npm run build\` first`);
  process.exit(1);
}

const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', out], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
});
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(`package: ${out} (${(statSync(out).size / 1024).toFixed(0)} KiB)`);
