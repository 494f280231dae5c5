import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bistableBand, branchSummary, brcBranch, brcFixedPointCount } from '../../core/diagnostics/bistability';
import { diagnose } from '../../core/diagnostics/diagnose';
import { forward, layerParams } from '../../core/model/network';
import { Rng } from '../../core/util/rng';
import { countRoots, makeModel, seqBatch, setParams } from '../helpers/diag-models';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** The attractor of h ↦ tanh(u + a h) reached from h0, by plain iteration (monotone map: converges). */
function iterateSign(a: number, u: number, h0: number): number {
  let h = h0;
  for (let i = 0; i < 20_000; i++) h = Math.tanh(u + a * h);
  return Math.abs(h) < 1e-6 ? 0 : Math.sign(h);
}

test('u*(a) matches the closed form values of the notes (0.208 at a = 1.5, 0.533 at a = 2) and is 0 for a ≤ 1', () => {
  assert.ok(Math.abs(bistableBand(1.5) - 0.208) < 5e-4, String(bistableBand(1.5)));
  assert.ok(Math.abs(bistableBand(2) - 0.533) < 5e-4, String(bistableBand(2)));
  assert.ok(Math.abs(bistableBand(1.2) - 0.056) < 5e-4);
  assert.equal(bistableBand(1), 0);
  assert.equal(bistableBand(0.7), 0);
});

test('u*(a) is where the local minimum of tanh(u + a h) − h crosses zero (found numerically)', () => {
  for (const a of [1.1, 1.5, 2]) {
    // For u > 0 the lower two roots exist while min over h < 0 of D(h) is below zero.
    const dmin = (u: number) => {
      let lo = -1,
        hi = 0;
      const D = (h: number) => Math.tanh(u + a * h) - h;
      // The left local minimum of D lies where a(1 − tanh²) = 1 on h < 0; golden-section search on [−1, 0]
      // finds it as D is unimodal there once the left branch is excluded by the start bracket below.
      lo = (-Math.atanh(Math.sqrt(1 - 1 / a)) - u) / a - 0.5;
      hi = lo + 1;
      for (let i = 0; i < 200; i++) {
        const m1 = lo + (hi - lo) * 0.382;
        const m2 = lo + (hi - lo) * 0.618;
        if (D(m1) < D(m2)) hi = m2;
        else lo = m1;
      }
      return D((lo + hi) / 2);
    };
    let lo = 0,
      hi = 2;
    for (let i = 0; i < 100; i++) {
      const m = (lo + hi) / 2;
      if (dmin(m) < 0) lo = m;
      else hi = m;
    }
    assert.ok(Math.abs(lo - bistableBand(a)) < 1e-9, `a=${a}: numeric ${lo} vs ${bistableBand(a)}`);
  }
});

test('the fixed-point count of h ↦ tanh(u + a h) changes exactly at the band edge', () => {
  for (const a of [1.5, 2]) {
    const band = bistableBand(a);
    for (const [u, want] of [
      [band - 1e-4, 3],
      [band + 1e-4, 1],
      [-(band - 1e-4), 3],
      [-(band + 1e-4), 1],
      [0, 3],
    ] as const) {
      const independent = countRoots((s) => Math.tanh(u + a * s) - s, -1.5, 1.5);
      assert.equal(independent, want, `grid count a=${a} u=${u}`);
      assert.equal(brcFixedPointCount(a, u), want, `brcFixedPointCount a=${a} u=${u}`);
    }
  }
  assert.equal(brcFixedPointCount(0.9, 0), 1);
});

test('brcBranch agrees with iterating the map from h_{t−1} (random a, u, h)', () => {
  const rng = new Rng(5);
  let bistableCases = 0;
  for (let i = 0; i < 3000; i++) {
    const a = 0.2 + 1.8 * rng.uniform();
    const u = (rng.uniform() - 0.5) * 1.4;
    const h = (rng.uniform() - 0.5) * 2;
    const want = iterateSign(a, u, h);
    if (want === 0) continue;
    if (brcFixedPointCount(a, u) === 3) bistableCases++;
    assert.equal(brcBranch(a, u, h), want, `a=${a} u=${u} h=${h}`);
  }
  assert.ok(bistableCases > 300, `only ${bistableCases} bistable cases`);
});

test('one BRC neuron (a = 1.5, c = σ(−3)): a pulse of −3 at t = 10 flips it; map, flips and holds are exact', () => {
  const model = makeModel([{ cell: 'brc', units: 1 }]);
  const c = sigmoid(-3);
  setParams(model, {
    'layers.0.U_a': [0],
    'layers.0.w_a': [0],
    'layers.0.b_a': [Math.atanh(0.5)],
    'layers.0.U_c': [0],
    'layers.0.w_c': [0],
    'layers.0.b_c': [-3],
    'layers.0.U': [1],
  });
  const xs = Array.from({ length: 20 }, (_, t) => (t === 0 ? 3 : t === 10 ? -3 : 0.05));
  const { x, T, B } = seqBatch([xs]);
  const r = diagnose(model, { input: { x, T, B, y: Float64Array.of(xs[0]) }, sections: ['bistability'] });
  const L = r.bistability.layers[0];
  assert.equal(L.method, 'gain');
  // Independent simulation of the neuron and of its attractors.
  let h = 0;
  for (let t = 0; t < T; t++) {
    const u = xs[t];
    const branch = iterateSign(1.5, u, h);
    const roots = countRoots((s) => Math.tanh(u + 1.5 * s) - s, -1.5, 1.5);
    h = c * h + (1 - c) * Math.tanh(u + 1.5 * h);
    assert.ok(Math.abs(L.a[t][0] - 1.5) < 1e-12, `a[${t}]`);
    assert.equal(L.bistable[t][0], 1);
    assert.ok(Math.abs(L.drive![t][0] - u) < 1e-15, `drive[${t}]`);
    assert.ok(Math.abs(L.c![t][0] - c) < 1e-12, `c[${t}]`);
    assert.ok(Math.abs(L.h[t][0] - h) < 1e-12, `h[${t}]`);
    assert.equal(L.fixedPoints[t][0], roots, `fixed points at ${t}`);
    assert.equal(L.branch[t][0], branch, `branch at ${t}`);
    assert.equal(L.fractionTrulyBistable[t], roots === 3 ? 1 : 0);
    assert.equal(L.fractionBistable[t], 1);
    assert.ok(Math.abs(L.meanC![t] - c) < 1e-12);
  }
  // The known answer: +1 up to step 9, −1 from the pulse on; one flip at t = 10. Holds of 9 steps: the write
  // steps t = 0 and t = 10 (|u| > u*(1.5), one fixed point) are not holds.
  assert.deepEqual(
    L.branch.map((row) => row[0]),
    [...new Array(10).fill(1), ...new Array(10).fill(-1)],
  );
  assert.deepEqual(
    L.fixedPoints.map((row) => row[0]),
    xs.map((v) => (Math.abs(v) > 1 ? 1 : 3)),
  );
  assert.deepEqual(L.flips, [{ neuron: 0, t: 10, from: 1, to: -1 }]);
  // Flipped once, so it does not hold one branch through its (only) sequence.
  assert.deepEqual(L.neurons, [{ fractionBistable: 1, longestHold: 9, flipCount: 1, heldIn: 0 }]);
});

test('branchSummary: only a branch stored while truly bistable can flip; input-following neurons never do', () => {
  // Three neurons, [T=8][H=3] row-major (branch / fixed-point count):
  //        t =   0    1    2    3    4    5    6    7
  //   n0:      +/1  +/3  0/3  −/1  −/3  −/3  −/3  −/3   written, stored +, zero step, overwritten at t = 3
  //   n1:      −/1  +/1  −/1  +/1  +/1  −/1  +/1  −/1   monostable throughout: follows its input
  //   n2:      +/3  +/1  −/1  −/1  −/3  +/3  +/3  +/3   stored +, drifts out of the band and flips at t = 2,
  //                                                     stores − at t = 4, flips back at t = 5
  const br = [
    [1, -1, 1],
    [1, 1, 1],
    [0, -1, -1],
    [-1, 1, -1],
    [-1, 1, -1],
    [-1, -1, 1],
    [-1, 1, 1],
    [-1, -1, 1],
  ].flat();
  const cnt = [
    [1, 1, 3],
    [3, 1, 1],
    [3, 1, 1],
    [1, 1, 1],
    [3, 1, 3],
    [3, 1, 3],
    [3, 1, 3],
    [3, 1, 3],
  ].flat();
  const s = branchSummary(br, cnt, 8, 3);
  assert.deepEqual(s.flips, [
    { neuron: 2, t: 2, from: 1, to: -1 },
    { neuron: 0, t: 3, from: 1, to: -1 },
    { neuron: 2, t: 5, from: -1, to: 1 },
  ]);
  assert.deepEqual(s.flipCount, [1, 0, 2]);
  // n0 holds − over t = 4..7; n2 holds + over t = 5..7 (its first + run t = 0..1 is 2 long).
  assert.deepEqual(s.longestHold, [4, 0, 3]);
});

test('batch means: fraction with a > 1 and mean c over the whole batch, truly bistable over the sampled sequences', () => {
  const model = makeModel(
    [
      { cell: 'nbrc', units: 5 },
      { cell: 'brc', units: 4 },
    ],
    { seed: 3 },
  );
  const rng = new Rng(9);
  const seqs = Array.from({ length: 6 }, () => Array.from({ length: 12 }, () => rng.normal()));
  const { x, T, B } = seqBatch(seqs);
  const r = diagnose(model, { input: { x, T, B, y: new Float64Array(B) }, sections: ['bistability'], batchSample: 6 });
  const fr = forward(model, x, T, B);
  for (let l = 0; l < 2; l++) {
    const L = r.bistability.layers[l];
    const H = L.units;
    const { a, c } = fr.layers[l].fwd.gates;
    const xin = fr.layers[l].x;
    const I = fr.layers[l].shape.inputSize;
    const U = layerParams(model, l).U;
    assert.equal(L.sampledSequences, 6);
    for (let t = 0; t < T; t++) {
      let nA = 0,
        sumC = 0,
        truly = 0;
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          const k = (t * B + b) * H + j;
          nA += a[k] > 1 ? 1 : 0;
          sumC += c[k];
          let u = 0;
          for (let i = 0; i < I; i++) u += xin[(t * B + b) * I + i] * U[i * H + j];
          const hs = Math.sqrt(1 - 1 / a[k]);
          if (a[k] > 1 && Math.abs(u) < a[k] * hs - Math.atanh(hs)) truly++;
        }
      }
      assert.ok(Math.abs(L.fractionBistable[t] - nA / (B * H)) < 1e-12, `layer ${l} t ${t}`);
      assert.ok(Math.abs(L.meanC![t] - sumC / (B * H)) < 1e-12);
      assert.ok(Math.abs(L.fractionTrulyBistable[t] - truly / (B * H)) < 1e-12);
      for (let j = 0; j < H; j++) assert.ok(Math.abs(L.a[t][j] - a[t * B * H + j]) < 1e-12);
    }
  }
});
