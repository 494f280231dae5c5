import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brcCell } from '../../core/cells/brc';
import { nbrcCell } from '../../core/cells/nbrc';
import { brcInputDrive } from '../../core/cells/brc-common';
import type { CellDef, LayerParams, SeqShape } from '../../core/cells/types';
import { initLayerParams } from '../../core/util/init';
import { Rng } from '../../core/util/rng';
import { checkGradient } from '../helpers/gradcheck';

const f64 = (v: number[]) => Float64Array.from(v);
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

/**
 * Independent scalar reference: runs the cell from an arbitrary h0 ([B*H]), one neuron at a time.
 * Returns h, a, c as [T*B*H].
 */
function refRun(full: boolean, p: LayerParams, x: Float64Array, s: SeqShape, h0?: Float64Array) {
  const { T, B, inputSize: I, units: H } = s;
  const Ra = full ? p.W_a : p.w_a;
  const Rc = full ? p.W_c : p.w_c;
  const hs: number[] = [];
  const as: number[] = [];
  const cs: number[] = [];
  for (let b = 0; b < B; b++) {
    let prev: number[] = [];
    for (let j = 0; j < H; j++) prev.push(h0 ? h0[b * H + j] : 0);
    for (let t = 0; t < T; t++) {
      const next: number[] = [];
      for (let j = 0; j < H; j++) {
        let za = p.b_a[j];
        let zc = p.b_c[j];
        let u = 0;
        for (let i = 0; i < I; i++) {
          const xi = x[(t * B + b) * I + i];
          za += xi * p.U_a[i * H + j];
          zc += xi * p.U_c[i * H + j];
          u += xi * p.U[i * H + j];
        }
        if (full) {
          for (let k = 0; k < H; k++) {
            za += prev[k] * Ra[k * H + j];
            zc += prev[k] * Rc[k * H + j];
          }
        } else {
          za += Ra[j] * prev[j];
          zc += Rc[j] * prev[j];
        }
        const a = 1 + Math.tanh(za);
        const c = sigmoid(zc);
        next.push(c * prev[j] + (1 - c) * Math.tanh(u + a * prev[j]));
        const o = (t * B + b) * H + j;
        hs[o] = next[j];
        as[o] = a;
        cs[o] = c;
      }
      prev = next;
    }
  }
  return { h: f64(hs), a: f64(as), c: f64(cs) };
}

// Hand example: in = 2, H = 2, B = 1, T = 2. U matrices are [in, H] row-major.
const X2 = f64([0.5, -1.0, 0.3, 0.8]);
const COMMON = {
  U_a: f64([0.2, -0.4, 0.7, 0.1]),
  U_c: f64([-0.3, 0.5, 0.6, -0.2]),
  U: f64([0.9, -0.6, 0.4, 1.1]),
  b_a: f64([0.1, -0.2]),
  b_c: f64([0.3, 0.05]),
};
const BRC_P: LayerParams = { ...COMMON, w_a: f64([0.8, 1.5]), w_c: f64([-0.5, 1.2]) };
// Non-symmetric, so applying W instead of W^T would change the result.
const NBRC_P: LayerParams = { ...COMMON, W_a: f64([0.5, -1.0, 0.25, 0.75]), W_c: f64([-0.6, 0.2, 0.9, 0.4]) };

test('first step by hand: h_0 = 0 so a = 1 + tanh(xU_a + b_a), c = σ(xU_c + b_c), h = (1 − c) tanh(xU)', () => {
  const s: SeqShape = { T: 1, B: 1, inputSize: 2, units: 2 };
  const x = X2.subarray(0, 2);
  // x = [0.5, -1]: xU_a + b_a = [0.1 - 0.7 + 0.1, -0.2 - 0.1 - 0.2] = [-0.5, -0.5]
  const a = [1 + Math.tanh(-0.5), 1 + Math.tanh(-0.5)];
  // xU_c + b_c = [-0.15 - 0.6 + 0.3, 0.25 + 0.2 + 0.05] = [-0.45, 0.5]
  const c = [sigmoid(-0.45), sigmoid(0.5)];
  // xU = [0.45 - 0.4, -0.3 - 1.1] = [0.05, -1.4]
  const h = [(1 - c[0]) * Math.tanh(0.05), (1 - c[1]) * Math.tanh(-1.4)];
  for (const [cell, p] of [
    [brcCell, BRC_P],
    [nbrcCell, NBRC_P],
  ] as const) {
    const out = cell.forward(p, x, s);
    assertClose(out.h, h, 1e-14, `${cell.kind} h`);
    assertClose(out.gates.a, a, 1e-14, `${cell.kind} a`);
    assertClose(out.gates.c, c, 1e-14, `${cell.kind} c`);
    assertClose(brcInputDrive(p, x, s), [0.05, -1.4], 1e-14, `${cell.kind} input drive`);
  }
});

test('two steps match values computed independently (Python, plain float math)', () => {
  const s: SeqShape = { T: 2, B: 1, inputSize: 2, units: 2 };
  const brc = brcCell.forward(BRC_P, X2, s);
  assertClose(brc.h, [0.03050654381362782, -0.33425625338382253, 0.21077890967418458, 0.16915520328606998], 1e-13, 'brc h');
  assertClose(brc.gates.a, [0.5378828427399902, 0.5378828427399902, 1.6317993270430984, 0.3700191572550937], 1e-13, 'brc a');
  assertClose(brc.gates.c, [0.389360766050778, 0.6224593312018546, 0.6625652148554247, 0.41069149690105683], 1e-13, 'brc c');
  const nbrc = nbrcCell.forward(NBRC_P, X2, s);
  assertClose(nbrc.h, [0.03050654381362782, -0.33425625338382253, 0.24815425080056933, 0.09179309305005051], 1e-13, 'nbrc h');
  assertClose(nbrc.gates.a, [0.5378828427399902, 0.5378828427399902, 1.5728060320785806, 0.5213753317437857], 1e-13, 'nbrc a');
  assertClose(nbrc.gates.c, [0.389360766050778, 0.6224593312018546, 0.5916680840529517, 0.47811369629709005], 1e-13, 'nbrc c');
  assertClose(brcInputDrive(BRC_P, X2, s), [0.05, -1.4, 0.3 * 0.9 + 0.8 * 0.4, 0.3 * -0.6 + 0.8 * 1.1], 1e-14, 'input drive');
});

function randomParams(cell: CellDef, rng: Rng, inputSize: number, units: number, scale = 0.5): LayerParams {
  const p: LayerParams = {};
  for (const s of cell.paramSpecs(inputSize, units)) {
    const n = s.shape.reduce((m, k) => m * k, 1);
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
    p[s.name] = a;
  }
  return p;
}

function randomArray(rng: Rng, n: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

const CELLS: [CellDef, boolean][] = [
  [brcCell, false],
  [nbrcCell, true],
];

test('batched multi-step forward matches the scalar reference (B > 1, odd sizes)', () => {
  const rng = new Rng(11);
  const s: SeqShape = { T: 6, B: 3, inputSize: 3, units: 5 };
  for (const [cell, full] of CELLS) {
    const p = randomParams(cell, rng, s.inputSize, s.units, 0.8);
    const x = randomArray(rng, s.T * s.B * s.inputSize);
    const out = cell.forward(p, x, s);
    const ref = refRun(full, p, x, s);
    assertClose(out.h, ref.h, 1e-13, `${cell.kind} h`);
    assertClose(out.gates.a, ref.a, 1e-13, `${cell.kind} a`);
    assertClose(out.gates.c, ref.c, 1e-13, `${cell.kind} c`);
  }
});

test('paramSpecs: names, shapes, inits and order; parameter counts match the paper', () => {
  assert.deepEqual(brcCell.paramSpecs(3, 4), [
    { name: 'U_c', shape: [3, 4], init: 'glorot_uniform' },
    { name: 'U_a', shape: [3, 4], init: 'glorot_uniform' },
    { name: 'U', shape: [3, 4], init: 'glorot_uniform' },
    { name: 'w_c', shape: [4], init: 'ones' },
    { name: 'w_a', shape: [4], init: 'ones' },
    { name: 'b_c', shape: [4], init: 'zeros' },
    { name: 'b_a', shape: [4], init: 'zeros' },
  ]);
  assert.deepEqual(nbrcCell.paramSpecs(3, 4), [
    { name: 'U_c', shape: [3, 4], init: 'glorot_uniform' },
    { name: 'U_a', shape: [3, 4], init: 'glorot_uniform' },
    { name: 'U', shape: [3, 4], init: 'glorot_uniform' },
    { name: 'W_c', shape: [4, 4], init: 'orthogonal' },
    { name: 'W_a', shape: [4, 4], init: 'orthogonal' },
    { name: 'b_c', shape: [4], init: 'zeros' },
    { name: 'b_a', shape: [4], init: 'zeros' },
  ]);
  const count = (c: CellDef, d: number, n: number) => c.paramSpecs(d, n).reduce((m, s) => m + s.shape.reduce((a, b) => a * b, 1), 0);
  assert.equal(count(brcCell, 7, 10), 3 * 7 * 10 + 4 * 10);
  assert.equal(count(nbrcCell, 7, 10), 3 * 7 * 10 + 2 * 10 * 10 + 2 * 10);
  assert.deepEqual(brcCell.gateNames, ['a', 'c']);
  assert.deepEqual(nbrcCell.gateNames, ['a', 'c']);
  assert.equal(brcCell.kind, 'brc');
  assert.equal(nbrcCell.kind, 'nbrc');
});

test('initialisation: BRC w = 1, b = 0, glorot limits; nBRC W W^T = I', () => {
  const rng = new Rng(5);
  const d = 6;
  const n = 8;
  const limit = Math.sqrt(6 / (d + n));
  for (const cell of [brcCell, nbrcCell]) {
    const p = initLayerParams(cell.paramSpecs(d, n), rng);
    for (const name of ['U_c', 'U_a', 'U']) {
      const u = p[name];
      assert.ok(
        u.every((v) => Math.abs(v) <= limit),
        `${name} within ±${limit}`,
      );
      // Spread over the range, not all zero: the largest magnitude is near the limit.
      assert.ok(Math.max(...u.map(Math.abs)) > 0.7 * limit, `${name} spread`);
    }
    assert.ok(p.b_a.every((v) => v === 0) && p.b_c.every((v) => v === 0), 'biases zero');
    // With w = 1 (or any W) and zero input at h = 0: a = 1 (the bifurcation point) and c = 0.5.
    const out = cell.forward(p, new Float64Array(d), { T: 1, B: 1, inputSize: d, units: n });
    assertClose(out.gates.a, new Float64Array(n).fill(1), 0, `${cell.kind} a at init`);
    assertClose(out.gates.c, new Float64Array(n).fill(0.5), 0, `${cell.kind} c at init`);
  }
  const brc = initLayerParams(brcCell.paramSpecs(d, n), rng);
  assert.ok(brc.w_a.every((v) => v === 1) && brc.w_c.every((v) => v === 1), 'BRC w = 1');
  const nb = initLayerParams(nbrcCell.paramSpecs(d, n), rng);
  for (const name of ['W_a', 'W_c']) {
    const W = nb[name];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let k = 0; k < n; k++) dot += W[i * n + k] * W[j * n + k];
        assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-10, `${name} W W^T [${i},${j}] = ${dot}`);
      }
    }
  }
  assert.notDeepEqual(nb.W_a, nb.W_c, 'W_a and W_c drawn independently');
});

const GRAD_SHAPES: SeqShape[] = [
  { T: 5, B: 3, inputSize: 2, units: 4 },
  { T: 7, B: 2, inputSize: 3, units: 5 },
];

for (const [cell, full] of CELLS) {
  for (const s of GRAD_SHAPES) {
    test(`${cell.kind} gradients match finite differences (T=${s.T}, B=${s.B}, in=${s.inputSize}, H=${s.units})`, () => {
      const rng = new Rng(100 + s.T * 10 + (full ? 1 : 0));
      const p = randomParams(cell, rng, s.inputSize, s.units, 0.5);
      const x = randomArray(rng, s.T * s.B * s.inputSize);
      const w = randomArray(rng, s.T * s.B * s.units);
      const loss = () => {
        const h = cell.forward(p, x, s).h;
        let L = 0;
        for (let i = 0; i < h.length; i++) L += w[i] * h[i];
        return L;
      };
      const fwd = cell.forward(p, x, s);
      const dhOut = Float64Array.from(w);
      const pCopy = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Float64Array.from(v)]));
      const xCopy = Float64Array.from(x);
      const hCopy = Float64Array.from(fwd.h);
      const bwd = cell.backward(p, x, fwd, dhOut, s);
      assert.deepEqual(dhOut, w, 'dhOut not modified');
      assert.deepEqual(p, pCopy, 'params not modified');
      assert.deepEqual(x, xCopy, 'x not modified');
      assert.deepEqual(fwd.h, hCopy, 'forward h not modified');

      assert.deepEqual(Object.keys(bwd.grads).sort(), Object.keys(p).sort());
      for (const name of Object.keys(p)) checkGradient(`${cell.kind}.${name}`, p[name], bwd.grads[name], loss);
      checkGradient(`${cell.kind}.x`, x, bwd.dx, loss);

      // dh[t] = dL/dh_{t+1} in total: own weight plus the effect of h_{t+1} on every later step, measured by
      // re-running the scalar reference from a perturbed state.
      const { B, units: H, inputSize: I } = s;
      assert.equal(bwd.dh.length, s.T * B * H);
      for (let t = 0; t < s.T; t++) {
        const state = Float64Array.from(fwd.h.subarray(t * B * H, (t + 1) * B * H));
        const rest: SeqShape = { ...s, T: s.T - 1 - t };
        const xRest = x.subarray((t + 1) * B * I);
        const wNow = w.subarray(t * B * H, (t + 1) * B * H);
        const wRest = w.subarray((t + 1) * B * H);
        const tail = () => {
          let L = 0;
          for (let i = 0; i < state.length; i++) L += wNow[i] * state[i];
          if (rest.T > 0) {
            const h = refRun(full, p, xRest, rest, state).h;
            for (let i = 0; i < h.length; i++) L += wRest[i] * h[i];
          }
          return L;
        };
        checkGradient(`${cell.kind}.dh[t=${t}]`, state, bwd.dh.subarray(t * B * H, (t + 1) * B * H), tail);
      }
    });
  }
}

/** Positive root of h = tanh(gain(h) h) by bisection on (lo, 1). */
function fixedPoint(gain: (h: number) => number, lo = 1e-3): number {
  let a = lo;
  let b = 1;
  const f = (h: number) => Math.tanh(gain(h) * h) - h;
  assert.ok(f(a) > 0 && f(b) < 0, 'bracket');
  for (let i = 0; i < 200; i++) {
    const m = (a + b) / 2;
    if (f(m) > 0) a = m;
    else b = m;
  }
  return (a + b) / 2;
}

/** One neuron, zero input after a pulse of `pulse` for 5 steps; candidate drive u = x (U = 1), U_a = U_c = 0. */
function runNeuron(cell: CellDef, wa: number, ba: number, bc: number, pulse: number, T: number) {
  const p: LayerParams = {
    U_c: f64([0]),
    U_a: f64([0]),
    U: f64([1]),
    b_a: f64([ba]),
    b_c: f64([bc]),
  };
  if (cell.kind === 'brc') {
    p.w_a = f64([wa]);
    p.w_c = f64([0]);
  } else {
    p.W_a = f64([wa]);
    p.W_c = f64([0]);
  }
  const x = new Float64Array(T);
  x.fill(pulse, 0, 5);
  return cell.forward(p, x, { T, B: 1, inputSize: 1, units: 1 });
}

test('bistability: with a > 1 the state latches at h* = tanh(a h*); with a < 1 it decays to 0', () => {
  const T = 400;
  for (const cell of [brcCell, nbrcCell]) {
    // State-dependent gain a(h) = 1 + tanh(3h) > 1 for h > 0.
    const hStar = fixedPoint((h) => 1 + Math.tanh(3 * h));
    const on = runNeuron(cell, 3, 0, 0, 2, T);
    assert.ok(Math.abs(on.h[T - 1] - hStar) < 1e-9, `${cell.kind}: h_T ${on.h[T - 1]} vs h* ${hStar}`);
    assert.ok(Math.abs(on.h[T - 200] - hStar) < 1e-9, `${cell.kind}: settled long before the end`);
    assert.ok(on.gates.a[T - 1] > 1, 'bistable regime');
    assert.ok(hStar > 0.5, 'non-trivial fixed point');

    // a = 1 + tanh(-1) ≈ 0.24 < 1: same pulse, the state relaxes to 0.
    const off = runNeuron(cell, 0, -1, 0, 2, T);
    assert.ok(off.h[4] > 0.5, 'the pulse did drive the state');
    assert.ok(Math.abs(off.h[T - 1]) < 1e-12, `${cell.kind}: decays, h_T = ${off.h[T - 1]}`);
    assert.ok(off.gates.a[T - 1] < 1);
  }
});

test('bistability with constant a = 1.5: ±0.859 latched by the pulse sign; c only changes the speed', () => {
  const T = 600;
  const ba = Math.atanh(0.5); // a = 1.5 exactly, w_a = 0
  const hStar = fixedPoint(() => 1.5);
  assert.ok(Math.abs(hStar - 0.859) < 1e-3, 'table value of the notes');
  for (const bc of [0, 2]) {
    const up = runNeuron(brcCell, 0, ba, bc, 1, T);
    const down = runNeuron(brcCell, 0, ba, bc, -1, T);
    assert.ok(Math.abs(up.h[T - 1] - hStar) < 1e-9, `c=${sigmoid(bc)}: up ${up.h[T - 1]}`);
    assert.ok(Math.abs(down.h[T - 1] + hStar) < 1e-9, `c=${sigmoid(bc)}: down ${down.h[T - 1]}`);
  }
  // Larger c: slower approach to the same fixed point (compare the distance shortly after the pulse).
  const fast = runNeuron(brcCell, 0, ba, 0, 1, 20);
  const slow = runNeuron(brcCell, 0, ba, 2, 1, 20);
  assert.ok(Math.abs(slow.h[19] - hStar) > Math.abs(fast.h[19] - hStar));
});

test('bad shapes and parameters raise clear errors', () => {
  const s: SeqShape = { T: 2, B: 1, inputSize: 2, units: 2 };
  assert.throws(() => brcCell.forward(BRC_P, new Float64Array(3), s), /x .*length 3, expected 4/);
  assert.throws(() => nbrcCell.forward(BRC_P, X2, s), /missing parameter W_c/);
  const { w_a: _unused, ...noWa } = BRC_P;
  void _unused;
  assert.throws(() => brcCell.forward(noWa, X2, s), /missing parameter w_a/);
  assert.throws(() => brcCell.forward({ ...BRC_P, U: f64([1, 2, 3]) }, X2, s), /parameter U \[2, 2\].*length 3, expected 4/);
  assert.throws(() => nbrcCell.forward({ ...NBRC_P, W_a: f64([1, 2]) }, X2, s), /W_a .*expected 4/);
  assert.throws(() => brcCell.forward(BRC_P, X2, { ...s, T: 0 }), /T = 0/);
  const fwd = brcCell.forward(BRC_P, X2, s);
  assert.throws(() => brcCell.backward(BRC_P, X2, fwd, new Float64Array(3), s), /dhOut/);
  assert.throws(() => brcInputDrive(BRC_P, X2, { ...s, inputSize: 3 }), /x .*expected 6/);
});
