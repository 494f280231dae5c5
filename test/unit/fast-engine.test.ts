/**
 * The fast (native float32) engine against the reference float64 cells: forward states, gate traces,
 * dx, every parameter gradient and dh, for every cell, odd shapes, every instruction set the CPU
 * supports and several thread counts, plus stacked layers. Skipped only when the addon is not built.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { referenceCell } from '../../core/cells/index';
import {
  CELL_KINDS,
  float32View,
  type CellDef,
  type CellForward,
  type CellKind,
  type LayerParams,
  type SeqShape,
} from '../../core/cells/types';
import { nativeKernels } from '../../core/engine/fast';
import { cellFor, fastCell, fastEngineStatus, releaseFastEngineMemory, releaseForward, resolveEngine } from '../../core/engine/index';
import { noisyParams } from '../helpers/params';
import { Rng } from '../../core/util/rng';
import { float32Close } from '../helpers/float32-close';
import { ridgeProbeR2 } from '../../core/diagnostics/decoding-probe';
import { setGramKernel } from '../../core/util/gram';
import { gramError } from '../helpers/gram-error';

const status = fastEngineStatus();
const skip = status.available ? false : `fast engine unavailable: ${status.reason}`;
const root = join(__dirname, '..', '..');

const params = (def: CellDef, I: number, H: number, rng: Rng, noise = 0.4): LayerParams => noisyParams(def, I, H, rng, noise);

function randn(n: number, rng: Rng, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

const close = float32Close;

/** One layer, forward and backward, fast vs reference. */
function compareLayer(kind: CellKind, shape: SeqShape, seed: number, label: string): void {
  const rng = new Rng(seed);
  const ref = referenceCell(kind);
  const fast = fastCell(kind) as CellDef;
  const { T, B, inputSize: I, units: H } = shape;
  // Long sequences get milder weights: near a bifurcation float32 rounding alone is amplified
  // ~100x over 30 steps, which is conditioning, not kernel error.
  const p = params(ref, I, H, rng, T > 10 ? 0.2 : 0.4);
  const x = randn(T * B * I, rng);
  const dhOut = randn(T * B * H, rng);
  const fr = ref.forward(p, x, shape);
  const ff = fast.forward(p, x, shape);
  const tag = `${label} ${kind} T=${T} B=${B} in=${I} H=${H}`;
  close(`${tag} h`, ff.h, fr.h);
  assert.deepEqual(Object.keys(ff.gates).sort(), [...ref.gateNames].sort(), `${tag}: gate names`);
  for (const g of ref.gateNames) close(`${tag} gate ${g}`, ff.gates[g], fr.gates[g]);
  const br = ref.backward(p, x, fr, dhOut, shape);
  const bf = fast.backward(p, x, ff, dhOut, shape);
  close(`${tag} dx`, bf.dx, br.dx);
  close(`${tag} dh`, bf.dh, br.dh);
  assert.deepEqual(Object.keys(bf.grads).sort(), Object.keys(br.grads).sort(), `${tag}: gradient names`);
  for (const name of Object.keys(br.grads)) close(`${tag} d${name}`, bf.grads[name], br.grads[name]);
}

const SHAPES: SeqShape[] = [
  { T: 1, B: 1, inputSize: 1, units: 1 },
  { T: 5, B: 1, inputSize: 1, units: 7 },
  { T: 6, B: 3, inputSize: 2, units: 17 },
  { T: 4, B: 5, inputSize: 17, units: 17 }, // in = H
  { T: 7, B: 2, inputSize: 5, units: 33 },
  { T: 3, B: 7, inputSize: 40, units: 13 }, // in > H
  { T: 30, B: 64, inputSize: 3, units: 8 }, // several backward chunks per thread
];

for (const kind of CELL_KINDS) {
  test(`fast ${kind} matches the reference cell (odd shapes, default ISA and threads)`, { skip }, () => {
    SHAPES.forEach((s, i) => compareLayer(kind, s, 100 + i, 'default'));
  });
}

test('fast cells match on every supported instruction set and thread count', { skip }, () => {
  const k = nativeKernels();
  assert.ok(k);
  const { supportedIsas, isa: original } = k.info();
  assert.ok(supportedIsas.includes('baseline'));
  try {
    for (const isa of supportedIsas) {
      assert.equal(k.setIsa(isa), true, `setIsa(${isa})`);
      assert.equal(k.info().isa, isa);
      for (const threads of [1, 2, 3]) {
        k.setThreads(threads);
        for (const kind of CELL_KINDS) compareLayer(kind, { T: 5, B: 5, inputSize: 6, units: 21 }, 7 + threads, `${isa}/${threads}t`);
      }
    }
  } finally {
    k.setIsa(original);
    k.setThreads(0);
  }
});

test('fast lstm with a 4 KiB gate row (H = 256) and a 1-wide input', { skip }, () => {
  compareLayer('lstm', { T: 3, B: 3, inputSize: 1, units: 256 }, 5, 'wide');
  compareLayer('gru', { T: 2, B: 2, inputSize: 3, units: 256 }, 6, 'wide');
});

/** A stack of layers: each layer's h is the next one's x, and dx flows back as the lower dhOut. */
function stack(cells: CellDef[], ps: LayerParams[], x: Float64Array, T: number, B: number, I: number, H: number, dTop: Float64Array) {
  const fwds = [];
  const xs = [x];
  for (let l = 0; l < cells.length; l++) {
    const shape = { T, B, inputSize: l === 0 ? I : H, units: H };
    const f = cells[l].forward(ps[l], xs[l], shape);
    fwds.push(f);
    xs.push(f.h);
  }
  const grads: LayerParams[] = [];
  let dh = dTop;
  const dhs: Float64Array[] = [];
  for (let l = cells.length - 1; l >= 0; l--) {
    const shape = { T, B, inputSize: l === 0 ? I : H, units: H };
    const b = cells[l].backward(ps[l], xs[l], fwds[l], dh, shape);
    grads[l] = b.grads;
    dhs[l] = b.dh;
    dh = b.dx;
  }
  return { hs: xs.slice(1), dx: dh, grads, dhs };
}

for (const kind of CELL_KINDS) {
  test(`fast ${kind}: a 3-layer stack matches the reference stack`, { skip }, () => {
    const rng = new Rng(31);
    const [T, B, I, H] = [9, 3, 1, 11];
    const ref = referenceCell(kind);
    const ps = [params(ref, I, H, rng), params(ref, H, H, rng), params(ref, H, H, rng)];
    const x = randn(T * B * I, rng);
    const dTop = randn(T * B * H, rng);
    const want = stack([ref, ref, ref], ps, x, T, B, I, H, dTop);
    const fast = fastCell(kind) as CellDef;
    const got = stack([fast, fast, fast], ps, x, T, B, I, H, dTop);
    for (let l = 0; l < 3; l++) {
      close(`${kind} layer ${l} h`, got.hs[l], want.hs[l]);
      close(`${kind} layer ${l} dh`, got.dhs[l], want.dhs[l]);
      for (const name of Object.keys(want.grads[l])) close(`${kind} layer ${l} d${name}`, got.grads[l][name], want.grads[l][name]);
    }
    close(`${kind} stack dx`, got.dx, want.dx);
  });
}

test('releaseForward: recycled buffers never change results, even when layer 1 goes before layer 2 backward', { skip }, () => {
  // 16 x 64 x 64 floats: large enough for the pool. Three rounds reuse the buffers of the previous one.
  const [T, B, I, H] = [16, 64, 1, 64];
  for (const kind of ['brc', 'lstm'] as const) {
    const ref = referenceCell(kind);
    const fast = fastCell(kind) as CellDef;
    const rng = new Rng(12);
    const ps = [params(ref, I, H, rng, 0.3), params(ref, H, H, rng, 0.3)];
    type Leased = { h32: { arr: Float32Array }; states: { arr: Float32Array }[] };
    const buffers = (f: CellForward) => {
      const c = f.cache as Leased;
      return [c.h32.arr.buffer, ...c.states.map((l) => l.arr.buffer)];
    };
    let previous = new Set<ArrayBufferLike>();
    for (let round = 0; round < 3; round++) {
      const x = randn(T * B * I, rng);
      const dTop = randn(T * B * H, rng);
      const s1 = { T, B, inputSize: I, units: H };
      const s2 = { T, B, inputSize: H, units: H };
      const f1 = fast.forward(ps[0], x, s1);
      const f2 = fast.forward(ps[1], f1.h, s2);
      if (round > 0) {
        const now = [...buffers(f1), ...buffers(f2)];
        assert.ok(
          now.every((b) => previous.has(b)),
          `${kind}: round ${round} did not reuse the released buffers`,
        );
      }
      const g1 = f1.gates[ref.gateNames[0]].slice(); // read (and copied) before release
      releaseForward(f1); // layer 2 still holds layer 1's h as its input
      const b2 = fast.backward(ps[1], f1.h, f2, dTop, s2);
      const r1 = ref.forward(ps[0], x, s1);
      const r2 = ref.forward(ps[1], r1.h, s2);
      const rb2 = ref.backward(ps[1], r1.h, r2, dTop, s2);
      close(`${kind} round ${round} layer-1 gate`, g1, r1.gates[ref.gateNames[0]]);
      close(`${kind} round ${round} layer-2 dx`, b2.dx, rb2.dx);
      for (const name of Object.keys(rb2.grads)) close(`${kind} round ${round} d${name}`, b2.grads[name], rb2.grads[name]);
      assert.throws(() => fast.backward(ps[0], x, f1, b2.dx, s1), /releaseForward/);
      assert.throws(() => f1.gates[ref.gateNames[1]], /released/);
      // h went back to the float64 pool with the release: the next array of its size (here dx) may reuse it.
      assert.ok(b2.dx === f1.h || b2.dx.length !== f1.h.length, `${kind}: dx did not reuse the released h`);
      previous = new Set([...buffers(f1), ...buffers(f2)]);
      releaseForward({ layers: [{ fwd: f2 }, { fwd: f1 }] }); // twice for f1: ignored
    }
  }
  releaseForward(
    referenceCell('gru').forward(params(referenceCell('gru'), 1, 2, new Rng(1)), new Float64Array(2), {
      T: 2,
      B: 1,
      inputSize: 1,
      units: 2,
    }),
  );
  releaseFastEngineMemory();
  compareLayer('gru', { T: 16, B: 64, inputSize: 1, units: 64 }, 13, 'after releaseFastEngineMemory');
});

test('float32 views hold exactly the values of h, every gate and dh, and expire with releaseForward', { skip }, () => {
  const [T, B, I, H] = [7, 5, 3, 6];
  for (const kind of CELL_KINDS) {
    const ref = referenceCell(kind);
    const fast = fastCell(kind) as CellDef;
    const rng = new Rng(21);
    const p = params(ref, I, H, rng);
    const shape = { T, B, inputSize: I, units: H };
    const f = fast.forward(p, randn(T * B * I, rng), shape);
    const b = fast.backward(p, randn(T * B * I, rng), f, randn(T * B * H, rng), shape);
    for (const name of ['h', ...ref.gateNames]) {
      const v = float32View(f, name);
      assert.ok(v instanceof Float32Array, `${kind}: no float32 view of ${name}`);
      assert.deepEqual(Float64Array.from(v), name === 'h' ? f.h : f.gates[name], `${kind}: view of ${name}`);
    }
    assert.deepEqual(Float64Array.from(float32View(b, 'dh')!), b.dh, `${kind}: view of dh`);
    // Without parameter gradients (diagnostics) dx and dh are bit-identical and grads empty.
    const lean = fast.backward(p, randn(T * B * I, new Rng(22)), f, b.dh, shape, { paramGrads: false });
    const full = fast.backward(p, randn(T * B * I, new Rng(22)), f, b.dh, shape);
    assert.deepEqual(lean.dx, full.dx, `${kind}: dx without parameter gradients`);
    assert.deepEqual(lean.dh, full.dh, `${kind}: dh without parameter gradients`);
    assert.deepEqual(Object.keys(lean.grads), []);
    assert.ok(Object.keys(full.grads).length > 0);
    assert.equal(float32View(f, 'nope'), undefined);
    releaseForward(f);
    assert.equal(float32View(f, 'h'), undefined, `${kind}: views of a released pass must not be handed out`);
    assert.equal(float32View(ref.forward(p, new Float64Array(T * B * I), shape), 'h'), undefined, 'the reference engine has none');
  }
});

test('backward of a reference forward pass is delegated to the reference cell', { skip }, () => {
  const rng = new Rng(3);
  const shape = { T: 4, B: 2, inputSize: 3, units: 5 };
  const ref = referenceCell('gru');
  const p = params(ref, 3, 5, rng);
  const x = randn(4 * 2 * 3, rng);
  const dh = randn(4 * 2 * 5, rng);
  const fr = ref.forward(p, x, shape);
  const want = ref.backward(p, x, fr, dh, shape);
  const got = (fastCell('gru') as CellDef).backward(p, x, fr, dh, shape);
  assert.deepEqual(got.dx, want.dx);
  assert.deepEqual(got.grads, want.grads);
});

test('backward uses the given x when it is not the array forward saw', { skip }, () => {
  const rng = new Rng(4);
  const shape = { T: 3, B: 2, inputSize: 4, units: 6 };
  const ref = referenceCell('nbrc');
  const fast = fastCell('nbrc') as CellDef;
  const p = params(ref, 4, 6, rng);
  const x = randn(3 * 2 * 4, rng);
  const dh = randn(3 * 2 * 6, rng);
  const ff = fast.forward(p, x, shape);
  const copy = x.slice();
  close(
    'dU_c with a copied x',
    fast.backward(p, copy, ff, dh, shape).grads.U_c,
    ref.backward(p, x, ref.forward(p, x, shape), dh, shape).grads.U_c,
  );
});

test('bad inputs raise errors instead of reading out of bounds', { skip }, () => {
  const fast = fastCell('lstm') as CellDef;
  const rng = new Rng(5);
  const p = params(referenceCell('lstm'), 2, 3, rng);
  const shape = { T: 2, B: 2, inputSize: 2, units: 3 };
  assert.throws(() => fast.forward(p, new Float64Array(7), shape), /x/);
  assert.throws(() => fast.forward({ ...p, kernel: new Float64Array(5) }, new Float64Array(8), shape), /kernel/);
  const f = fast.forward(p, new Float64Array(8), shape);
  assert.throws(() => fast.backward(p, new Float64Array(8), f, new Float64Array(11), shape), /dhOut/);
  assert.throws(() => fast.backward(p, new Float64Array(8), f, new Float64Array(12), { ...shape, T: 1 }), /shape|x/);
  const k = nativeKernels();
  assert.ok(k);
  // Buffers are passed by name: a missing one is named, a positional array is refused.
  assert.throws(() => k.forward(3, 2, 2, 2, 3, {} as never), /^Error: x is missing$/);
  assert.throws(() => k.forward(3, 2, 2, 2, 3, [] as never), /x is missing|named typed arrays/);
  assert.throws(() => k.forward(3, 2, 2, 2, 3, null as never), /buffers must be an object of named typed arrays/);
  const x = new Float32Array(2 * 2 * 2);
  const named = {
    x,
    U: new Float32Array(2 * 12),
    W: new Float32Array(3 * 12),
    bias: new Float32Array(12),
    biasR: null,
    wdiag: null,
    h: new Float32Array(12),
    states: [],
  };
  assert.throws(() => k.forward(3, 2, 2, 2, 3, named), /^Error: state is missing$/);
  assert.throws(() => k.forward(3, 2, 2, 2, 3, { ...named, U: new Float32Array(5), states: [] }), /^Error: U has length 5, expected 24$/);
  assert.throws(() => k.gemm(2, 2, 2, new Float32Array(3), new Float32Array(4), new Float32Array(4)), /A has length 3/);
});

test('native GEMM matches a float64 product on odd shapes for every ISA', { skip }, () => {
  const k = nativeKernels();
  assert.ok(k);
  const rng = new Rng(6);
  const original = k.info().isa;
  try {
    for (const isa of k.info().supportedIsas) {
      k.setIsa(isa);
      for (const [M, N, K] of [
        [1, 1, 1],
        [7, 5, 3],
        [9, 49, 17],
        [50, 300, 100],
        [3, 1, 700],
        [13, 16, 300],
      ]) {
        const A = Float32Array.from(randn(M * K, rng));
        const B = Float32Array.from(randn(K * N, rng));
        const C = new Float32Array(M * N);
        k.gemm(M, N, K, A, B, C);
        const want = new Float64Array(M * N);
        for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) for (let q = 0; q < K; q++) want[i * N + j] += A[i * K + q] * B[q * N + j];
        close(`${isa} gemm ${M}x${N}x${K}`, Float64Array.from(C), want, 1e-5);
      }
    }
  } finally {
    k.setIsa(original);
  }
});

test(
  'native float64 Gram of the ridge probes equals the direct sums on odd shapes for every ISA and 1–3 threads; the probe gives the same R²',
  { skip },
  () => {
    const k = nativeKernels();
    assert.ok(k);
    const rng = new Rng(8);
    const original = k.info().isa;
    try {
      for (const isa of k.info().supportedIsas) {
        k.setIsa(isa);
        // The pool splits Grams of n·d² ≥ 1e6 (column ranges, then blocks round-robin).
        for (const [n, d, threads] of [
          [1, 1, 1],
          [3, 2, 1],
          [17, 5, 1],
          [1024, 100, 1],
          [1024, 100, 2],
          [999, 101, 3],
          [70, 130, 3],
          [9, 129, 1],
          [130, 7, 1],
        ]) {
          k.setThreads(threads);
          const X = Float64Array.from(randn(n * d, rng));
          const A = new Float64Array(d * d);
          k.gram(n, d, X, A);
          const worst = gramError(X, n, d, A);
          assert.ok(worst < 1e-12, `${isa} gram ${n}x${d}, ${threads} threads: relative error ${worst}`);
        }
      }
    } finally {
      k.setIsa(original);
      k.setThreads(0);
    }
    assert.throws(() => k.gram(4, 3, new Float64Array(11), new Float64Array(9)), /X has length 11/);
    // The probe through the native Gram (installed when the addon loaded) against the JavaScript one.
    const n = 300;
    const d = 40;
    const X = Float64Array.from(randn(n * d, rng));
    const y = Float64Array.from({ length: n }, (_, r) => X[r * d] - 0.5 * X[r * d + 7] + 0.2 * rng.normal());
    const native = ridgeProbeR2(X, y, n, d, 200);
    setGramKernel(null);
    try {
      const js = ridgeProbeR2(X, y, n, d, 200);
      assert.ok(Math.abs(native - js) < 1e-12 && native > 0.5, `R² native ${native}, JavaScript ${js}`);
    } finally {
      setGramKernel((nn, dd, XX, AA) => k.gram(nn, dd, XX, AA));
    }
  },
);

test('native tanh and sigmoid are within 1e-6 of Math.tanh and the logistic for every ISA', { skip }, () => {
  const k = nativeKernels();
  assert.ok(k);
  const n = 40001;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = -25 + (50 * i) / (n - 1);
  x[0] = -Infinity;
  x[n - 1] = Infinity;
  const original = k.info().isa;
  try {
    for (const isa of k.info().supportedIsas) {
      k.setIsa(isa);
      const t = new Float32Array(n);
      const s = new Float32Array(n);
      k.tanh(x, t);
      k.sigmoid(x, s);
      for (let i = 0; i < n; i++) {
        assert.ok(Math.abs(t[i] - Math.tanh(x[i])) <= 1e-6, `${isa} tanh(${x[i]}) = ${t[i]}`);
        assert.ok(Math.abs(s[i] - 1 / (1 + Math.exp(-x[i]))) <= 1e-6, `${isa} sigmoid(${x[i]}) = ${s[i]}`);
        assert.ok(Math.abs(t[i]) <= 1 && s[i] >= 0 && s[i] <= 1, `${isa}: range at ${x[i]}`);
      }
    }
  } finally {
    k.setIsa(original);
  }
});

test('flush-to-zero stays inside native calls: JavaScript keeps subnormal doubles', { skip }, () => {
  const fast = fastCell('brc') as CellDef;
  const rng = new Rng(8);
  const p = params(referenceCell('brc'), 1, 4, rng);
  fast.forward(p, randn(8, rng), { T: 4, B: 2, inputSize: 1, units: 4 });
  // With FTZ/DAZ leaked into this thread, subnormal operands read as 0 and results flush to 0.
  const tiny = Number.MIN_VALUE * Number(process.env.ONE ?? '1'); // computed at run time
  assert.ok(tiny > 0, 'a subnormal compares as zero');
  assert.equal(tiny * 1.5, 1e-323); // 1.5 units in the last place round to 2 (a literal, not computed)
  assert.equal(1e-300 * 1e-10, 1e-310); // a subnormal result is not flushed
});

test('saturated gates (denormal range) give finite results matching the reference', { skip }, () => {
  const rng = new Rng(9);
  for (const kind of CELL_KINDS) {
    const ref = referenceCell(kind);
    const fast = fastCell(kind) as CellDef;
    const shape = { T: 20, B: 2, inputSize: 2, units: 6 };
    const p = params(ref, 2, 6, rng, 3); // large weights: gates pinned at 0 or 1
    const x = randn(20 * 2 * 2, rng, 5);
    const dh = randn(20 * 2 * 6, rng);
    const fr = ref.forward(p, x, shape);
    const ff = fast.forward(p, x, shape);
    close(`${kind} saturated h`, ff.h, fr.h, 2e-4);
    const br = ref.backward(p, x, fr, dh, shape);
    const bf = fast.backward(p, x, ff, dh, shape);
    close(`${kind} saturated dx`, bf.dx, br.dx, 2e-4);
    for (const name of Object.keys(br.grads)) close(`${kind} saturated d${name}`, bf.grads[name], br.grads[name], 2e-4);
  }
});

test('the addon loads in worker threads and concurrent calls from two workers stay correct', { skip }, async () => {
  // Each worker runs the same native LSTM forward 20 times with its own data; the main thread checks.
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    const m = { exports: {} };
    process.dlopen(m, workerData.path);
    const { T, B, I, H, seed } = workerData;
    let s = seed;
    const rnd = (n) => Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5));
    const states = Array.from({ length: 5 }, () => new Float32Array(T * B * H));
    const bufs = { x: rnd(T * B * I), U: rnd(I * 4 * H), W: rnd(H * 4 * H), bias: rnd(4 * H), biasR: null, wdiag: null, h: new Float32Array(T * B * H), states };
    const first = [];
    for (let r = 0; r < 20; r++) {
      m.exports.forward(3, T, B, I, H, bufs);
      if (r === 0) first.push(...bufs.h);
      else if (bufs.h.some((v, i) => v !== first[i])) throw new Error('result changed between runs');
    }
    parentPort.postMessage({ h: bufs.h, inputs: { x: bufs.x, U: bufs.U, W: bufs.W, bias: bufs.bias } });`;
  const shape = { T: 40, B: 9, I: 5, H: 48 };
  const run = (seed: number) =>
    new Promise<{ h: Float32Array; inputs: { x: Float32Array; U: Float32Array; W: Float32Array; bias: Float32Array } }>(
      (resolve, reject) => {
        const w = new Worker(src, { eval: true, workerData: { path: status.path, ...shape, seed } });
        w.once('message', resolve);
        w.once('error', reject);
      },
    );
  const results = await Promise.all([run(1), run(2)]);
  const k = nativeKernels();
  assert.ok(k);
  for (const r of results) {
    const h = new Float32Array(shape.T * shape.B * shape.H);
    const st = Array.from({ length: 5 }, () => new Float32Array(h.length));
    k.forward(3, shape.T, shape.B, shape.I, shape.H, { ...r.inputs, biasR: null, wdiag: null, h, states: st });
    assert.deepEqual(r.h, h);
  }
});

test('engine selection: fast is native when the addon loads, reference on request', { skip }, () => {
  assert.equal(resolveEngine('fast'), 'native');
  assert.equal(resolveEngine('native'), 'native');
  assert.equal(resolveEngine('reference'), 'reference');
  for (const kind of CELL_KINDS) {
    assert.equal(cellFor(kind, 'reference'), referenceCell(kind));
    assert.equal(cellFor(kind, 'fast'), fastCell(kind));
    assert.notEqual(cellFor(kind, 'fast'), referenceCell(kind));
  }
});

test('without the addon and the wasm module, the fast engine falls back to the reference cells', () => {
  const code = `
    const e = require('./core/engine/index');
    const c = require('./core/cells/index');
    const s = e.fastEngineStatus();
    console.log(JSON.stringify({ available: s.available, reason: s.reason, resolved: e.resolveEngine('fast'),
      same: e.cellFor('brc', 'fast') === c.referenceCell('brc'), fast: e.fastCell('brc') }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, RNN_FAST_DISABLE: '1', RNN_MEMORY_HIDE_WASM: '1' },
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() as string);
  assert.deepEqual(out, {
    available: false,
    reason: 'native addon hidden by RNN_FAST_DISABLE=1',
    resolved: 'reference',
    same: true,
    fast: null,
  });
});

/** The state after step `t` ([B, S]: h, then c for LSTM) of a forward result, from its h and (LSTM) cell trace. */
function stateAt(f: CellForward, t: number, B: number, H: number, S: number): Float64Array {
  const out = new Float64Array(B * S);
  for (let b = 0; b < B; b++) {
    out.set(f.h.subarray((t * B + b) * H, (t * B + b + 1) * H), b * S);
    if (S === 2 * H) out.set(f.gates.cell.subarray((t * B + b) * H, (t * B + b + 1) * H), b * S + H);
  }
  return out;
}

for (const kind of CELL_KINDS) {
  test(`fast ${kind} declares the reference state size and runs from an initial state like the reference`, { skip }, () => {
    const ref = referenceCell(kind);
    const fast = fastCell(kind) as CellDef;
    const T = 9,
      B = 3,
      I = 2,
      H = 6,
      k = 4;
    assert.ok(fast.stateSize && ref.stateSize);
    assert.equal(fast.stateSize(H), ref.stateSize(H));
    const S = fast.stateSize(H);
    const rng = new Rng(7);
    const p = params(ref, I, H, rng, 0.3);
    const x = randn(T * B * I, rng);
    const h0 = randn(B * S, rng, 0.5);
    const shape = { T, B, inputSize: I, units: H };
    const fr = ref.forward(p, x, shape, h0);
    const ff = fast.forward(p, x, shape, h0);
    close(`${kind} h from h0`, ff.h, fr.h);
    for (const g of ref.gateNames) close(`${kind} gate ${g} from h0`, ff.gates[g], fr.gates[g]);
    // A nonzero initial state must change the result (not ignored).
    assert.ok(
      ff.h.some((v, i) => Math.abs(v - fast.forward(p, x, shape).h[i]) > 1e-3),
      `${kind}: initial state ignored`,
    );
    // Continuity: the fast pass over all T steps equals k steps, then the rest from the state after step k.
    const whole = fast.forward(p, x, shape);
    const head = fast.forward(p, x.subarray(0, k * B * I), { ...shape, T: k });
    const tail = fast.forward(p, x.subarray(k * B * I), { ...shape, T: T - k }, stateAt(head, k - 1, B, H, S));
    close(`${kind} split at ${k}`, tail.h, whole.h.subarray(k * B * H));
    // Backward of a pass from an initial state: dx and the parameter gradients as the reference's.
    const dhOut = randn(T * B * H, rng);
    const bf = fast.backward(p, x, ff, dhOut, shape);
    const br = ref.backward(p, x, fr, dhOut, shape);
    close(`${kind} dx from h0`, bf.dx, br.dx);
    for (const name of Object.keys(br.grads)) close(`${kind} d${name} from h0`, bf.grads[name], br.grads[name]);
  });
}
