/**
 * End-to-end: the universal package (what every platform but x86-64 Linux installs) holds the WebAssembly
 * engine and no native binary, and the linux-x64 package holds both. The universal one, installed into
 * code-server, trains on the copy task from the palette: the training panel and the Inspector say "wasm
 * engine", and the run's run.json records wasm.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { ROOT, runProcess, scratchDir, screenshot, setupPresent, trainCopyBrc, waitFor, webviewFrame } from './harness';
import { usePackagedWorkbench } from './packaged-workbench';

const OUT = join(ROOT, 'test-output', 'e2e-universal');
const wasmBuilt = (() => {
  try {
    return readdirSync(join(ROOT, 'dist', 'wasm')).includes('rnn_kernels.wasm');
  } catch {
    return false;
  }
})();
const skip = !setupPresent()
  ? 'code-server is not installed: run scripts/e2e-setup.sh'
  : !wasmBuilt
    ? 'the wasm engine is not built (clang missing: scripts/wasm-setup.sh)'
    : false;
let page: Page;
let workspace = '';
let universal: string[] = [];

/** The file names inside a .vsix (a zip), read with Python's zipfile. */
function entries(vsix: string): string[] {
  const r = spawnSync('python3', ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', vsix], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

const uiTest = usePackagedWorkbench({
  out: OUT,
  prefix: 'rnn-memory-universal-e2e-',
  skip,
  target: 'universal',
  timeoutMs: 600_000,
  prepare: (ws) => {
    workspace = ws;
  },
  packaged: (vsix) => {
    universal = entries(vsix);
  },
  ready: (w) => {
    page = w.page;
  },
});

describe('the universal package (wasm only) in code-server 4.100.3 + Chromium', () => {
  uiTest('the universal package holds the wasm module and no .node file; the linux-x64 one holds both', async () => {
    assert.ok(universal.includes('extension/dist/wasm/rnn_kernels.wasm'), universal.join(', '));
    assert.deepEqual(
      universal.filter((f) => f.endsWith('.node')),
      [],
    );
    const x64 = join(scratchDir('rnn-memory-x64-vsix-'), 'x64.vsix');
    await runProcess(process.execPath, [join(ROOT, 'scripts', 'package.mjs'), '--target', 'linux-x64', '--out', x64], process.env, 120_000);
    const files = entries(x64);
    assert.ok(files.includes('extension/dist/wasm/rnn_kernels.wasm'));
    assert.ok(
      files.some((f) => /^extension\/dist\/native\/.+\.node$/.test(f)),
      files.join(', '),
    );
    // The platform is in the manifest the marketplace and VS Code read.
    const manifest = spawnSync(
      'python3',
      ['-c', 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read("extension.vsixmanifest").decode())', x64],
      {
        encoding: 'utf8',
      },
    ).stdout;
    assert.match(manifest, /TargetPlatform="linux-x64"/);
  });

  uiTest('installed, it trains on the wasm engine and says so in the panel, the Inspector and run.json', async () => {
    const panel = await trainCopyBrc(page, '1 × 32', '30000 steps');
    const stats = await waitFor(
      'the panel to show 100 steps on the wasm engine',
      async () => {
        const t = (await panel.locator('.stats').textContent()) ?? '';
        return Number(/step (\d+) \//.exec(t)?.[1] ?? 0) >= 100 && t.includes('wasm engine') ? t : null;
      },
      180_000,
    );
    assert.doesNotMatch(stats, /native/);
    await panel.locator('vscode-button', { hasText: 'Stop' }).click();
    await waitFor('the panel to say Stopped', async () => (await panel.locator('.run-status').textContent()) === 'Stopped', 30_000);
    await page.locator('.activitybar .action-item a[aria-label^="RNN Memory"]').click();
    const inspector = await webviewFrame(page, 'Inspector', 30_000);
    await waitFor(
      'the Inspector to name the wasm engine',
      async () => (await inspector.locator('section[data-view="inspector"] p.caption', { hasText: 'wasm engine' }).count()) > 0,
      30_000,
    );
    const runs = join(workspace, 'runs');
    const run = readdirSync(runs).find((d) => d.endsWith('-copy-brc'));
    assert.ok(run, `no run folder in ${readdirSync(runs).join(', ')}`);
    assert.equal((JSON.parse(readFileSync(join(runs, run, 'run.json'), 'utf8')) as { engine?: string }).engine, 'wasm');
    await screenshot(page, OUT, 'universal-wasm.png');
  });
});
