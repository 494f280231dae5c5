// Runs every test tier in order and stops at the first failing tier:
//   0. lint      scripts/lint.mjs         eslint, prettier --check and dependency-cruiser (no cycles, layering)
//   0b. python    scripts/python-setup.sh  a venv with torch in .e2e/python for the PyTorch bridge's unit tests
//   1. unit      test/unit/*.test.ts      core/, host logic and webview logic under plain Node (through tsx)
//   2. setup     scripts/e2e-setup.sh     apt packages (chromium …) and code-server 4.100.3; idempotent
//   3. browser   test/browser/*.test.ts   the panels and the HTML report rendered in headless Chromium
//   4. vscode    test/vscode/*.test.ts    in-host tests with the real VS Code API and end-to-end tests
// RNN_TEST_TIERS=lint,unit,browser (or the tiers as arguments) limits the tiers (for quick local runs); CI runs them all.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
// Tiers named as arguments (npm run test:unit) take precedence over RNN_TEST_TIERS.
const tiers = process.argv.slice(2).join(',') || process.env.RNN_TEST_TIERS || 'lint,unit,setup,browser,vscode';
const wanted = new Set(tiers.split(',').map((s) => s.trim()));

function testFiles(dir) {
  const abs = join(root, 'test', dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join('test', dir, f));
}

function run(label, cmd, args) {
  console.log(`\n=== ${label} ===`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  console.log(`=== ${label}: ${r.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s ===`);
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const nodeTest = (files) => [...['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1'], ...files];

if (wanted.has('lint')) run('lint', process.execPath, [join(root, 'scripts', 'lint.mjs')]);
if ((wanted.has('unit') || wanted.has('setup')) && existsSync(join(root, 'scripts', 'python-setup.sh')))
  run('test setup (python with torch)', 'bash', [join(root, 'scripts', 'python-setup.sh')]);
if (wanted.has('unit')) run('unit tests', process.execPath, nodeTest(testFiles('unit')));
if (wanted.has('setup') && existsSync(join(root, 'scripts', 'e2e-setup.sh')))
  run('test setup (chromium, code-server)', 'bash', [join(root, 'scripts', 'e2e-setup.sh')]);
for (const tier of ['browser', 'vscode']) {
  const files = testFiles(tier);
  if (wanted.has(tier) && files.length) run(`${tier} tests`, process.execPath, nodeTest(files));
}
