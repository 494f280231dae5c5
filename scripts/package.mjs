// Packages the extension as .vsix files with @vscode/vsce. Everything the extension runs is bundled into dist/
// (extension, workers, webview, data, native addon, wasm module), so each package is staged in a temporary
// folder holding only those files and the manifest (vsce would otherwise walk node_modules/ and .e2e/), with
// --no-dependencies. .vscodeignore states the same selection for anyone running vsce in the repository.
//
// Two packages, the way the marketplace serves platform-specific extensions (vsce package --target):
//   linux-x64   the native addon (x86-64 Linux only) and the WebAssembly engine;
//   universal   the WebAssembly engine only, no native binary: what every other platform installs.
// And the command line as an npm package (npm pack), for `npx rnn-memory` outside VS Code:
//   npm         dist/cli.js with both engines; the addon loads only on x86-64 Linux, wasm everywhere else.
// Usage: node scripts/package.mjs [--target linux-x64|universal|npm|all] [--out FILE]
//   (default: all, written as NAME-linux-x64-VERSION.vsix, NAME-VERSION.vsix and NAME-VERSION.tgz;
//   --out needs one target)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const TARGETS = ['linux-x64', 'universal', 'npm'];
const targetArg = arg('--target') ?? 'all';
if (targetArg !== 'all' && !TARGETS.includes(targetArg)) {
  console.error(`package: --target must be one of ${TARGETS.join(', ')} or all (got ${targetArg})`);
  process.exit(2);
}
const targets = targetArg === 'all' ? TARGETS : [targetArg];
if (arg('--out') && targets.length > 1) {
  console.error('package: --out names one file: give --target linux-x64, universal or npm with it');
  process.exit(2);
}
const defaultOut = (t) =>
  join(
    root,
    t === 'npm'
      ? `${pkg.name}-${pkg.version}.tgz`
      : t === 'universal'
        ? `${pkg.name}-${pkg.version}.vsix`
        : `${pkg.name}-${t}-${pkg.version}.vsix`,
  );

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
if (targets.some((t) => t !== 'universal') && nativeAddons.length === 0) {
  console.error(
    'package: the linux-x64 and npm packages need the native addon (dist/native/*.node); build it on x86-64 Linux with `npm run build`',
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

// The npm package of the CLI: its own manifest (no extension fields, no dependencies: the bundle has them
// all), the CLI and the files it reads at run time. The training worker also runs custom cells.
function packageNpm(out) {
  const stage = mkdtempSync(join(tmpdir(), 'rnn-memory-npm-'));
  try {
    const copy = (rel) => {
      mkdirSync(dirname(join(stage, rel)), { recursive: true });
      cpSync(join(root, rel), join(stage, rel), { recursive: true });
    };
    for (const f of ['README.md', 'LICENSE']) if (existsSync(join(root, f))) copy(f);
    for (const f of ['cli.js', 'train-worker.js', 'typescript.js']) copy(join('dist', f));
    copy('dist/data');
    copy('dist/python/rnn_memory_bridge.py');
    for (const f of nativeAddons) copy(join('dist', 'native', f));
    copy(wasm);
    const manifest = {
      name: pkg.name,
      version: pkg.version,
      description: `${pkg.description} Command line: rnn-memory.`,
      license: pkg.license,
      bin: { 'rnn-memory': 'dist/cli.js' },
      engines: { node: pkg.engines.node },
    };
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const dest = mkdtempSync(join(tmpdir(), 'rnn-memory-pack-'));
    try {
      // npm's own CLI when this runs under npm (npm run package), else the npm on PATH.
      const npmCli = process.env.npm_execpath;
      const args = ['pack', '--pack-destination', dest];
      const opts = { cwd: stage, encoding: 'utf8' };
      const r = npmCli ? spawnSync(process.execPath, [npmCli, ...args], opts) : spawnSync('npm', args, opts);
      if (r.status !== 0) {
        console.error(`package: npm pack failed\n${r.stderr ?? r.error}`);
        process.exit(r.status ?? 1);
      }
      const [tgz] = readdirSync(dest).filter((f) => f.endsWith('.tgz'));
      if (!tgz) throw new Error('npm pack wrote no .tgz');
      cpSync(join(dest, tgz), out);
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  console.log(`package: ${out} (npm, ${(statSync(out).size / 1024).toFixed(0)} KiB)`);
}

for (const t of targets) {
  const out = arg('--out') ? resolve(arg('--out')) : defaultOut(t);
  if (t === 'npm') packageNpm(out);
  else packageTarget(t, out);
}
