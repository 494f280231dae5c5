// Packages the extension as .vsix files with @vscode/vsce. Everything the extension runs is bundled into dist/
// (extension, workers, webview, data, native addon, wasm module), so each package is staged in a temporary
// folder holding only those files and the manifest (vsce would otherwise walk node_modules/ and .e2e/), with
// --no-dependencies. .vscodeignore states the same selection for anyone running vsce in the repository.
//
// Two packages, the way the marketplace serves platform-specific extensions (vsce package --target):
//   linux-x64   the native addon (x86-64 Linux only) and the WebAssembly engine;
//   universal   the WebAssembly engine only, no native binary: what every other platform installs.
// Usage: node scripts/package.mjs [--target linux-x64|universal|all] [--out FILE.vsix]
//   (default: all, written as NAME-linux-x64-VERSION.vsix and NAME-VERSION.vsix; --out needs one target)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const TARGETS = ['linux-x64', 'universal'];
const targetArg = arg('--target') ?? 'all';
if (targetArg !== 'all' && !TARGETS.includes(targetArg)) {
  console.error(`package: --target must be one of ${TARGETS.join(', ')} or all (got ${targetArg})`);
  process.exit(2);
}
const targets = targetArg === 'all' ? TARGETS : [targetArg];
if (arg('--out') && targets.length > 1) {
  console.error('package: --out names one file: give --target linux-x64 or --target universal with it');
  process.exit(2);
}
const defaultOut = (t) => join(root, t === 'universal' ? `${pkg.name}-${pkg.version}.vsix` : `${pkg.name}-${t}-${pkg.version}.vsix`);

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

const nativeAddons = existsSync(join(root, 'dist', 'native'))
  ? readdirSync(join(root, 'dist', 'native')).filter((f) => f.endsWith('.node'))
  : [];
const wasm = 'dist/wasm/rnn_kernels.wasm';
if (!existsSync(join(root, wasm))) {
  console.error(
    `package: missing ${wasm} (every package carries the WebAssembly engine); run \`npm run build\` with clang installed (scripts/wasm-setup.sh)`,
  );
  process.exit(1);
}
if (targets.includes('linux-x64') && nativeAddons.length === 0) {
  console.error(
    'package: the linux-x64 package needs the native addon (dist/native/*.node); build it on x86-64 Linux with `npm run build`',
  );
  process.exit(1);
}

function packageTarget(target, out) {
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
    // Only the built addon(s), not their object files; only in the package of the platform they run on.
    if (target === 'linux-x64') for (const f of nativeAddons) copy(join('dist', 'native', f));
    // The WebAssembly engine (platform-independent): the module only.
    copy(wasm);

    const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
    // The README's relative links (docs/…) stay relative: there is no public repository URL to prefix.
    const args = [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out];
    if (target !== 'universal') args.push('--target', target);
    if (!existsSync(join(stage, 'LICENSE'))) args.push('--skip-license');
    const r = spawnSync(process.execPath, args, { cwd: stage, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) process.exit(r.status ?? 1);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  console.log(`package: ${out} (${target}, ${(statSync(out).size / 1024).toFixed(0)} KiB)`);
}

for (const t of targets) packageTarget(t, arg('--out') ? resolve(arg('--out')) : defaultOut(t));
