import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceCell } from '../../core/cells/index';
import { cellStateSize, type CellKind } from '../../core/cells/types';
import { packStates } from '../../core/diagnostics/state';
import { diagnose } from '../../core/diagnostics/diagnose';
import { fitDecay } from '../../core/diagnostics/gradient-flow';
import type { Model } from '../../core/model/model';
import { computeLoss, layerInputSize, layerParams } from '../../core/model/network';
import { Rng } from '../../core/util/rng';
import { makeModel, seqBatch, setParams } from '../helpers/diag-models';

/**
 * Runs one layer over x [T, B, I], adding `bump` to h_t[b, j] right after step t (through a second run that
 * starts from the bumped state; for LSTM c_t is kept). Returns h [T, B, H].
 */
function runLayer(kind: CellKind, model: Model, l: number, x: Float64Array, T: number, B: number, bump?: { t: number; b: number; j: number; d: number }): Float64Array {
  const def = referenceCell(kind);
  const I = layerInputSize(model.arch, l);
  const H = model.arch.layers[l].units;
  const p = layerParams(model, l);
  if (!bump) return def.forward(p, x, { T, B, inputSize: I, units: H }).h;
  const k = bump.t + 1;
  const first = def.forward(p, x.subarray(0, k * B * I), { T: k, B, inputSize: I, units: H });
  const S = cellStateSize(def, H);
  const state = packStates(first, k, B, H, S).slice((k - 1) * B * S);
  state[bump.b * S + bump.j] += bump.d;
  const h = new Float64Array(T * B * H);
  h.set(first.h);
  h[(bump.t * B + bump.b) * H + bump.j] += bump.d;
  if (k < T) h.set(def.forward(p, x.slice(k * B * I), { T: T - k, B, inputSize: I, units: H }, state).h, k * B * H);
  return h;
}

/** The batch-mean task loss with an optional bump of layer l's state. */
function lossWith(model: Model, x: Float64Array, T: number, B: number, y: Float64Array, bumpLayer = -1, bump?: { t: number; b: number; j: number; d: number }): number {
  let input = x;
  model.arch.layers.forEach((spec, l) => {
    input = runLayer(spec.cell as CellKind, model, l, input, T, B, l === bumpLayer ? bump : undefined);
  });
  const H = model.arch.layers[model.arch.layers.length - 1].units;
  const W = model.params.get('readout.kernel')!.data;
  const bias = model.params.get('readout.bias')!.data;
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = bias[0];
    for (let u = 0; u < H; u++) s += input[((T - 1) * B + b) * H + u] * W[u];
    out[b] = s;
  }
  return computeLoss(model.arch, out, { y }).loss;
}

/** Largest singular value by power iteration on JᵀJ (J [n×n]). */
function sigmaMax(J: number[][]): number {
  const n = J.length;
  let v = new Array(n).fill(1).map((_, i) => 1 + i);
  let s = 0;
  for (let it = 0; it < 2000; it++) {
    const w = J.map((row) => row.reduce((acc, a, k) => acc + a * v[k], 0));
    const z = new Array(n).fill(0).map((_, k) => J.reduce((acc, row, i) => acc + row[k] * w[i], 0));
    s = Math.sqrt(Math.hypot(...z));
    const nz = Math.hypot(...z);
    v = z.map((q) => q / nz);
  }
  return s;
}

test('gradient norms and per-neuron means match finite differences through bumped states', () => {
  const model = makeModel([{ cell: 'brc', units: 3 }, { cell: 'lstm', units: 2 }], { seed: 6 });
  const rng = new Rng(3);
  const { x, T, B } = seqBatch([Array.from({ length: 5 }, () => rng.normal()), Array.from({ length: 5 }, () => rng.normal())]);
  const y = Float64Array.of(0.3, -0.7);
  const r = diagnose(model, { input: { x, T, B, y }, sections: ['gradientFlow'] });
  assert.ok(Math.abs(r.input.loss - lossWith(model, x, T, B, y)) < 1e-14);
  const e = 1e-6;
  model.arch.layers.forEach((spec, l) => {
    const g = r.gradientFlow.layers[l];
    for (let t = 0; t < T; t++) {
      let sq = 0;
      for (let j = 0; j < spec.units; j++) {
        let abs = 0;
        for (let b = 0; b < B; b++) {
          const num = (lossWith(model, x, T, B, y, l, { t, b, j, d: e }) - lossWith(model, x, T, B, y, l, { t, b, j, d: -e })) / (2 * e);
          sq += num * num;
          abs += Math.abs(num);
        }
        assert.ok(Math.abs(g.perNeuron[t][j] - abs / B) < 1e-7 + 1e-5 * abs, `layer ${l} perNeuron[${t}][${j}]: ${g.perNeuron[t][j]} vs ${abs / B}`);
      }
      const want = Math.sqrt(sq);
      assert.ok(Math.abs(g.norm[t] - want) < 1e-8 + 1e-5 * want, `layer ${l} norm[${t}]: ${g.norm[t]} vs ${want}`);
    }
  });
});

test('‖∂h_T/∂h_t‖ equals the spectral norm of the finite-difference Jacobian (probes ≥ units: exact)', () => {
  const model = makeModel([{ cell: 'gru', units: 3 }, { cell: 'nbrc', units: 3 }], { seed: 8 });
  const rng = new Rng(4);
  const T = 6;
  const { x, B } = seqBatch([Array.from({ length: T }, () => rng.normal()), Array.from({ length: T }, () => rng.normal())]);
  // One sequence: the "median" is the first sequence's own norm.
  const r = diagnose(model, { input: { x, T, B, y: new Float64Array(B) }, sections: ['gradientFlow'], probes: 8, jacobianSequences: 1 });
  assert.equal(r.gradientFlow.probes, 3);
  assert.equal(r.gradientFlow.jacobianSequences, 1);
  assert.ok(r.gradientFlow.layers.every((g) => g.jacobianLowerBound === false));
  // Layer inputs of the first sequence.
  let input = x;
  model.arch.layers.forEach((spec, l) => {
    const I = layerInputSize(model.arch, l);
    const x0 = new Float64Array(T * I);
    for (let t = 0; t < T; t++) x0.set(input.subarray((t * B) * I, (t * B) * I + I), t * I);
    const H = spec.units;
    const e = 1e-6;
    for (let t = 0; t < T; t++) {
      const J: number[][] = Array.from({ length: H }, () => new Array(H).fill(0));
      for (let k = 0; k < H; k++) {
        const hp = runLayer(spec.cell as CellKind, model, l, x0, T, 1, { t, b: 0, j: k, d: e });
        const hm = runLayer(spec.cell as CellKind, model, l, x0, T, 1, { t, b: 0, j: k, d: -e });
        for (let i = 0; i < H; i++) J[i][k] = (hp[(T - 1) * H + i] - hm[(T - 1) * H + i]) / (2 * e);
      }
      const want = sigmaMax(J);
      const got = r.gradientFlow.layers[l].jacobianNorm[t];
      assert.ok(Math.abs(got - want) < 1e-6 * Math.max(1, want), `layer ${l} t ${t}: ${got} vs ${want}`);
    }
    input = runLayer(spec.cell as CellKind, model, l, input, T, B);
  });
});

test('a strongly contracting BRC layer is flagged as vanishing; its gradient decays with the fitted τ', () => {
  const model = makeModel([{ cell: 'brc', units: 1 }]);
  // a = 0.1, c = σ(−3): the state map's slope is at most c + (1 − c)·a ≈ 0.14.
  setParams(model, {
    'layers.0.U_a': [0], 'layers.0.w_a': [0], 'layers.0.b_a': [Math.atanh(-0.9)],
    'layers.0.U_c': [0], 'layers.0.w_c': [0], 'layers.0.b_c': [-3], 'layers.0.U': [0.1],
    'readout.kernel': [1],
  });
  const rng = new Rng(1);
  // A verdict needs an interval, so several sequences (one gave one in older versions).
  const { x, T, B } = seqBatch(Array.from({ length: 8 }, () => Array.from({ length: 30 }, () => rng.normal())));
  const r = diagnose(model, { input: { x, T, B, y: new Float64Array(B).fill(1) }, sections: ['gradientFlow'] });
  const g = r.gradientFlow.layers[0];
  assert.equal(g.vanishing, true);
  assert.equal(g.exploding, false);
  assert.ok(g.jacobianNorm[0] < 1e-20);
  assert.equal(g.jacobianNorm[T - 1], 1);
  assert.equal(g.decay.kind, 'decay');
  // Every step multiplies the gradient by 0.05 … 0.14, so τ = −1/ln(rate) lies between 0.34 and 0.51.
  assert.ok(g.decay.tau! > 0.3 && g.decay.tau! < 0.55, `tau ${g.decay.tau}`);
});

test('fitDecay: exact τ for an exponential, no decay for a flat norm, exploding for growth backwards', () => {
  const T = 50;
  const exp = Array.from({ length: T }, (_, t) => 3 * Math.exp(-(T - 1 - t) / 7));
  const d = fitDecay(exp);
  assert.equal(d.kind, 'decay');
  assert.ok(Math.abs(d.tau! - 7) < 1e-9);
  assert.ok(Math.abs(d.dynamicRange - Math.exp(49 / 7)) < 1e-6 * Math.exp(7));
  assert.deepEqual(fitDecay(new Array(T).fill(2)), { kind: 'no-decay', tau: null, dynamicRange: 1, steady: false });
  assert.equal(fitDecay(Array.from({ length: T }, (_, t) => 1 + 0.1 * Math.sin(t))).kind, 'no-decay');
  assert.equal(fitDecay(Array.from({ length: T }, (_, t) => Math.exp((T - 1 - t) / 5))).kind, 'exploding');
  assert.equal(fitDecay([0, 0, 1]).kind, 'no-decay');
});
