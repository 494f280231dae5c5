/**
 * The CLI as an npm package (scripts/package.mjs --target npm): packed from the build, installed offline into an
 * empty project, and run through `npx rnn-memory`. It picks its engine the way the repository's CLI does: native
 * where the addon loads, wasm where it does not (simulated by hiding the addon), and says which on its first line.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fastEngineStatus } from '../../core/engine/fast';
import { tinyTrainArgs } from '../helpers/tiny-train';

const root = join(__dirname, '..', '..');
const built = ['dist/cli.js', 'dist/wasm/rnn_kernels.wasm'].every((f) => existsSync(join(root, f)));
const nativeBuilt = fastEngineStatus().available;
const dir = mkdtempSync(join(tmpdir(), 'rnn-npm-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 180_000, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout ?? '', err: `${r.stderr ?? ''}${r.error ?? ''}` };
}

test(
  'npm package: installs offline, `npx rnn-memory` trains on native, and on wasm with the addon hidden',
  { skip: !built && 'run `npm run build` first' },
  () => {
    const tgz = join(dir, 'rnn-memory-lens.tgz');
    const p = run(process.execPath, [join(root, 'scripts', 'package.mjs'), '--target', 'npm', '--out', tgz], root);
    assert.equal(p.code, 0, p.err);
    const files = run('tar', ['tzf', tgz], dir).out.trim().split('\n').sort();
    const want = ['package/package.json', 'package/dist/cli.js', 'package/dist/train-worker.js', 'package/dist/wasm/rnn_kernels.wasm'];
    for (const f of want) assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
    assert.equal(files.includes('package/dist/native/rnn_kernels.node'), nativeBuilt);
    // Nothing of the extension, no source maps, no object files.
    assert.deepEqual(
      files.filter((f) => /extension\.js|webview|\.map$|\/obj\/|\.o$|node_modules/.test(f)),
      [],
    );

    const app = join(dir, 'app');
    mkdirSync(app);
    const inst = run('npm', ['install', '--offline', '--no-audit', '--no-fund', tgz], app);
    assert.equal(inst.code, 0, inst.err);
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules', 'rnn-memory-lens', 'package.json'), 'utf8'));
    assert.deepEqual(manifest.bin, { 'rnn-memory': 'dist/cli.js' });
    assert.equal(manifest.dependencies, undefined);

    const train = (out: string, env: Record<string, string>) => run('npx', ['--no', 'rnn-memory', ...tinyTrainArgs(out)], app, env);
    const cases: [string, Record<string, string>, string][] = [
      ['hidden', { RNN_MEMORY_HIDE_NATIVE: '1' }, 'wasm'],
      ['default', {}, nativeBuilt ? 'native' : 'wasm'],
    ];
    for (const [name, env, engine] of cases) {
      const out = join(app, `run-${name}`);
      const t = train(out, env);
      assert.equal(t.code, 0, t.err);
      assert.match(t.err.split('\n')[0], new RegExp(`^training in .* \\(engine: ${engine}\\)$`));
      const runJson = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
      assert.equal(runJson.engine, engine);
      assert.ok(existsSync(join(out, 'model.safetensors')), `${name}: model written`);
    }
    const bad = run('npx', ['--no', 'rnn-memory', 'train', '--engine', 'gpu', '--out', join(app, 'x')], app);
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /engine/);
  },
);
