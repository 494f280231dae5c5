/**
 * The WebAssembly engine (native/kernels.cpp compiled by clang for wasm32 + SIMD128) against the float64
 * reference cells: forward states, every gate, dx, dh and every parameter gradient for every cell on odd
 * sizes, stacked layers, saturated gates, NaN/±Inf placement; its activations; and the CLI, with the native
 * addon hidden, training, tracing and diagnosing on it and saying so. Skipped only when the .wasm is not built.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { referenceCell } from '../../core/cells/index';
import { CELL_KINDS, type CellDef, type CellKind, type LayerParams, type SeqShape } from '../../core/cells/types';
import { wasmActivation, wasmCell, wasmEngineStatus, wasmGram } from '../../core/engine/wasm';
import { setWasmThreads, splitCount } from '../../core/engine/wasm-threads';
import { gramUpper, gramUpperJs, setGramKernel } from '../../core/util/gram';
import { Rng } from '../../core/util/rng';
import { float32Close } from '../helpers/float32-close';
import { noisyParams } from '../helpers/params';
import { tinyTrainArgs } from '../helpers/tiny-train';
import { gramError } from '../helpers/gram-error';

const status = wasmEngineStatus();
const skip = status.available ? false : `wasm engine unavailable: ${status.reason}`;
if (skip) console.log(`# skipping the wasm engine tests: ${skip}`);
const root = join(__dirname, '..', '..');

function randn(n: number, rng: Rng, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => scale * rng.normal());
}

const wasm = (kind: CellKind) => wasmCell(kind) as CellDef;

/** One layer forward and backward, wasm vs reference: h, every gate, dx, dh, every gradient. */
function compareLayer(kind: CellKind, shape: SeqShape, seed: number, noise = 0.4, tol = 1e-4, nonFinite: 'refuse' | 'match' = 'refuse') {
  const rng = new Rng(seed);
  const ref = referenceCell(kind);
  const { T, B, inputSize: I, units: H } = shape;
  const p = noisyParams(ref, I, H, rng, noise);
  const x = randn(T * B * I, rng, noise > 1 ? 5 : 1);
  const dhOut = randn(T * B * H, rng);
  return { p, x, dhOut, check: (q: LayerParams = p, xx = x, dh = dhOut) => run(kind, shape, q, xx, dh, tol, nonFinite) };
}

function run(kind: CellKind, shape: SeqShape, p: LayerParams, x: Float64Array, dhOut: Float64Array, tol: number, nf: 'refuse' | 'match') {
  const ref = referenceCell(kind);
  const tag = `${kind} T=${shape.T} B=${shape.B} in=${shape.inputSize} H=${shape.units}`;
  const fr = ref.forward(p, x, shape);
  const fw = wasm(kind).forward(p, x, shape);
  float32Close(`${tag} h`, fw.h, fr.h, tol, nf);
  assert.deepEqual(Object.keys(fw.gates).sort(), [...ref.gateNames].sort(), `${tag}: gate names`);
  for (const g of ref.gateNames) float32Close(`${tag} gate ${g}`, fw.gates[g], fr.gates[g], tol, nf);
  const br = ref.backward(p, x, fr, dhOut, shape);
  const bw = wasm(kind).backward(p, x, fw, dhOut, shape);
  float32Close(`${tag} dx`, bw.dx, br.dx, tol, nf);
  float32Close(`${tag} dh`, bw.dh, br.dh, tol, nf);
  assert.deepEqual(Object.keys(bw.grads).sort(), Object.keys(br.grads).sort(), `${tag}: gradient names`);
  for (const name of Object.keys(br.grads)) float32Close(`${tag} d${name}`, bw.grads[name], br.grads[name], tol, nf);
}

// Sizes 1, 3, 17, 100 and 129 as units and as inputs: vector remainders (4-wide) and GEMM edge tiles.
const SHAPES: SeqShape[] = [
  { T: 1, B: 1, inputSize: 1, units: 1 },
  { T: 5, B: 3, inputSize: 1, units: 3 },
  { T: 6, B: 3, inputSize: 3, units: 17 },
  { T: 4, B: 5, inputSize: 17, units: 17 },
  { T: 3, B: 2, inputSize: 100, units: 100 },
  { T: 3, B: 2, inputSize: 1, units: 129 },
  { T: 2, B: 3, inputSize: 129, units: 17 },
  { T: 30, B: 17, inputSize: 3, units: 8 },
];

for (const kind of CELL_KINDS) {
  test(`wasm ${kind} matches the reference cell on odd sizes (1, 3, 17, 100, 129)`, { skip }, () => {
    SHAPES.forEach((s, i) => compareLayer(kind, s, 200 + i, s.T > 10 ? 0.2 : 0.4).check());
  });
}

for (const kind of CELL_KINDS) {
  test(`wasm ${kind}: a 3-layer stack matches the reference stack`, { skip }, () => {
    const rng = new Rng(41);
    const [T, B, I, H] = [9, 3, 1, 11];
    const ref = referenceCell(kind);
    const ps = [noisyParams(ref, I, H, rng, 0.4), noisyParams(ref, H, H, rng, 0.4), noisyParams(ref, H, H, rng, 0.4)];
    const x = randn(T * B * I, rng);
    const dTop = randn(T * B * H, rng);
    const stack = (cell: CellDef) => {
      const xs = [x];
      const fwds = ps.map((p, l) => {
        const f = cell.forward(p, xs[l], { T, B, inputSize: l ? H : I, units: H });
        xs.push(f.h);
        return f;
      });
      const grads: LayerParams[] = [];
      let dh = dTop;
      for (let l = ps.length - 1; l >= 0; l--) {
        const b = cell.backward(ps[l], xs[l], fwds[l], dh, { T, B, inputSize: l ? H : I, units: H });
        grads[l] = b.grads;
        dh = b.dx;
      }
      return { hs: xs.slice(1), grads, dx: dh };
    };
    const want = stack(ref);
    const got = stack(wasm(kind));
    for (let l = 0; l < 3; l++) {
      float32Close(`${kind} layer ${l} h`, got.hs[l], want.hs[l]);
      for (const name of Object.keys(want.grads[l])) float32Close(`${kind} layer ${l} d${name}`, got.grads[l][name], want.grads[l][name]);
    }
    float32Close(`${kind} stack dx`, got.dx, want.dx);
  });
}

// The batch split over worker threads (wasm-threads.ts): 1, 2 and 3 ranges, uneven ones included (B = 7),
// forced down to tiny calls; every output and the summed weight gradients match the reference, and the rows
// each range computes are the rows a whole-batch call computes.
for (const kind of CELL_KINDS) {
  test(`wasm ${kind}: the batch split across 1–3 threads matches the reference and the unsplit call`, { skip }, () => {
    const shape: SeqShape = { T: 12, B: 7, inputSize: 3, units: 17 };
    const rng = new Rng(77);
    const ref = referenceCell(kind);
    const p = noisyParams(ref, 3, 17, rng, 0.4);
    const x = randn(12 * 7 * 3, rng);
    const dhOut = randn(12 * 7 * 17, rng);
    const outputs = (threads: number) => {
      setWasmThreads(threads, 1);
      try {
        assert.equal(splitCount(shape.T, shape.B, shape.units), threads);
        const f = wasm(kind).forward(p, x, shape);
        const b = wasm(kind).backward(p, x, f, dhOut, shape);
        return { h: f.h, gates: f.gates, dx: b.dx, dh: b.dh, grads: b.grads };
      } finally {
        setWasmThreads(undefined);
      }
    };
    const one = outputs(1);
    for (const threads of [2, 3]) {
      const got = outputs(threads);
      const tag = `${kind} ${threads} threads`;
      run(kind, shape, p, x, dhOut, 1e-4, 'refuse'); // the reference comparison at this shape
      assert.deepEqual(got.h, one.h, `${tag}: h differs from the unsplit call`);
      for (const g of Object.keys(one.gates)) assert.deepEqual(got.gates[g], one.gates[g], `${tag}: gate ${g}`);
      assert.deepEqual(got.dx, one.dx, `${tag}: dx`);
      assert.deepEqual(got.dh, one.dh, `${tag}: dh`);
      // Summed over the ranges in another order: equal to float32 rounding.
      for (const name of Object.keys(one.grads)) float32Close(`${tag} d${name}`, got.grads[name], one.grads[name], 1e-5);
      const fr = ref.forward(p, x, shape);
      const br = ref.backward(p, x, fr, dhOut, shape);
      for (const name of Object.keys(br.grads)) float32Close(`${tag} d${name} vs reference`, got.grads[name], br.grads[name]);
    }
  });
}

test('wasm: saturated gates (denormal range) stay finite and match the reference', { skip }, () => {
  for (const kind of CELL_KINDS) compareLayer(kind, { T: 20, B: 2, inputSize: 2, units: 6 }, 9, 3, 2e-4).check();
});

test('wasm: NaN and ±Inf in x, each parameter or dL/dh come out where the reference puts them', { skip }, () => {
  const shape = { T: 4, B: 2, inputSize: 3, units: 5 };
  for (const kind of CELL_KINDS) {
    for (const v of [NaN, Infinity, -Infinity]) {
      const c = compareLayer(kind, shape, 11, 0.4, 1e-4, 'match');
      // Step 1 of the last sequence, so that step 0 stays finite.
      const xp = c.x.slice();
      xp[shape.B * shape.inputSize + shape.inputSize * (shape.B - 1) + 1] = v;
      c.check(c.p, xp);
      for (const name of Object.keys(c.p)) {
        const q = { ...c.p, [name]: c.p[name].slice() };
        q[name][Math.floor(q[name].length / 2)] = v;
        c.check(q);
      }
      const dp = c.dhOut.slice();
      dp[shape.B * shape.units + 2] = v;
      c.check(c.p, c.x, dp);
    }
  }
});

test("wasm float64 Gram of the ridge probes equals the direct sums on odd shapes; the addon's Gram outranks it", { skip }, () => {
  const rng = new Rng(8);
  for (const [n, d] of [
    [1, 1],
    [3, 2],
    [17, 5],
    [1024, 100],
    [999, 101],
    [70, 130],
    [9, 129],
    [130, 7],
  ]) {
    const X = randn(n * d, rng);
    const A = new Float64Array(d * d);
    wasmGram(n, d, X, A);
    const worst = gramError(X, n, d, A);
    assert.ok(worst < 1e-12, `wasm gram ${n}x${d}: relative error ${worst}`);
  }
  assert.throws(() => wasmGram(4, 3, new Float64Array(11), new Float64Array(9)), /X has length 11/);
  // Which Gram gramUpper runs: the addon's when both offered themselves, in either order; the module's alone.
  const X = randn(6, rng);
  const tagged = (v: number) => (_n: number, _d: number, _X: Float64Array, A: Float64Array) => A.fill(v);
  try {
    setGramKernel(null);
    setGramKernel(tagged(1), 'wasm');
    assert.equal(gramUpper(X, 3, 2)[0], 1);
    setGramKernel(tagged(2), 'native');
    setGramKernel(tagged(1), 'wasm');
    assert.equal(gramUpper(X, 3, 2)[0], 2);
    setGramKernel(null);
    const js = new Float64Array(4);
    gramUpperJs(X, 3, 2, js);
    assert.equal(gramUpper(X, 3, 2)[0], js[0]);
  } finally {
    setGramKernel(null);
    setGramKernel(wasmGram, 'wasm');
  }
});

test('wasm tanh and sigmoid are within 1e-6 of Math.tanh and the logistic, ±Inf and NaN included', { skip }, () => {
  const n = 40001;
  const x = Float32Array.from({ length: n }, (_, i) => -25 + (50 * i) / (n - 1));
  x[0] = -Infinity;
  x[n - 1] = Infinity;
  const t = wasmActivation('tanh', x);
  const s = wasmActivation('sigmoid', x);
  for (let i = 0; i < n; i++) {
    assert.ok(Math.abs(t[i] - Math.tanh(x[i])) <= 1e-6, `tanh(${x[i]}) = ${t[i]}`);
    assert.ok(Math.abs(s[i] - 1 / (1 + Math.exp(-x[i]))) <= 1e-6, `sigmoid(${x[i]}) = ${s[i]}`);
  }
  assert.ok(Number.isNaN(wasmActivation('tanh', Float32Array.of(NaN))[0]));
  assert.ok(Number.isNaN(wasmActivation('sigmoid', Float32Array.of(NaN))[0]));
});

test('wasm: a wrong-sized input is one clear error, not an out-of-bounds read', { skip }, () => {
  const ref = referenceCell('lstm');
  const p = noisyParams(ref, 2, 3, new Rng(5), 0.4);
  const shape = { T: 2, B: 2, inputSize: 2, units: 3 };
  assert.throws(() => wasm('lstm').forward(p, new Float64Array(7), shape), /x/);
  assert.throws(() => wasm('lstm').forward({ ...p, kernel: new Float64Array(5) }, new Float64Array(8), shape), /kernel/);
});

// ------------------------------------------------------------------------------------------------
// The CLI with the native addon hidden: every command runs on wasm and says so.

const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'core', 'cli', 'main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, RNN_MEMORY_HIDE_NATIVE: '1', ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('with the native addon hidden, train, trace and diagnose run on wasm and say so first', { skip }, () => {
  const run = join(dir, 'run');
  const t = cli(tinyTrainArgs(run));
  assert.equal(t.code, 0, t.err);
  assert.match(t.err.split('\n')[0], /^training in .* \(engine: wasm\)$/);
  assert.equal(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).engine, 'wasm');
  const model = join(run, 'model.safetensors');
  const input = join(dir, 'input.json');
  writeFileSync(input, JSON.stringify({ x: [[[0], [1], [0], [0]]] }));
  const tr = cli(['trace', '--model', model, '--input', input, '--out', join(dir, 'trace.json')]);
  assert.equal(tr.code, 0, tr.err);
  assert.equal(tr.err.split('\n')[0], 'engine: wasm');
  // The same trace on the reference engine: wasm's float32 states agree with its float64 ones.
  const ref = cli(['trace', '--model', model, '--input', input, '--engine', 'reference']);
  assert.equal(ref.err.split('\n')[0], 'engine: reference');
  const flat = (j: unknown): number[] => (typeof j === 'number' ? [j] : j && typeof j === 'object' ? Object.values(j).flatMap(flat) : []);
  const got = flat(JSON.parse(readFileSync(join(dir, 'trace.json'), 'utf8')));
  const want = flat(JSON.parse(ref.out));
  assert.ok(want.length > 0 && got.length === want.length, `trace sizes ${got.length} vs ${want.length}`);
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-5, `trace value ${i}: wasm ${v}, reference ${want[i]}`));
  const d = cli(['diagnose', '--model', model, '--task', 'copy', '--T', '12', '--batch', '8', '--out', join(dir, 'd.json'), '--quiet']);
  assert.equal(d.code, 0, d.err);
  assert.equal(d.err.split('\n')[0], 'engine: wasm');
});

test('--engine wasm with the module hidden falls back to reference and says why; native hidden resolves fast to wasm', () => {
  const code = `
    const e = require('./core/engine/index');
    console.log(JSON.stringify({ fast: e.resolveEngine('fast'), native: e.resolveEngine('native'), why: e.engineFallbackReason('native') ?? null }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, RNN_MEMORY_HIDE_NATIVE: '1' },
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() as string);
  const expect = status.available ? 'wasm' : 'reference';
  assert.deepEqual(out, {
    fast: expect,
    native: expect,
    why: `native engine unavailable (native addon hidden by RNN_MEMORY_HIDE_NATIVE=1); using ${expect}`,
  });
  const input = join(dir, 'in-hidden.json');
  writeFileSync(input, JSON.stringify({ x: [[[0]]] }));
  const m = join(dir, 'hidden-model');
  const t = cli(
    [
      'train',
      '--task',
      'copy',
      '--cell',
      'brc',
      '--out',
      m,
      '--steps',
      '1',
      '--units',
      '3',
      '--batch',
      '2',
      '--T',
      '6',
      '--test-size',
      '4',
    ],
    {
      RNN_MEMORY_HIDE_WASM: '1',
    },
  );
  assert.equal(t.code, 0, t.err);
  assert.match(t.err.split('\n')[0], /\(engine: reference\)$/);
  const tr = cli(['trace', '--model', join(m, 'model.safetensors'), '--input', input, '--engine', 'wasm'], { RNN_MEMORY_HIDE_WASM: '1' });
  assert.equal(tr.code, 0, tr.err);
  assert.equal(
    tr.err.split('\n')[0],
    'engine: reference (wasm engine unavailable (wasm module hidden by RNN_MEMORY_HIDE_WASM=1); using reference)',
  );
});
