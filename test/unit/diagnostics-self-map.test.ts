import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gruCell } from '../../core/cells/gru';
import { diagnose } from '../../core/diagnostics/diagnose';
import { genericSelfMaps, gridRoots, gruSelfMaps } from '../../core/diagnostics/self-map';
import { forward, layerParams } from '../../core/model/network';
import { Rng } from '../../core/util/rng';
import { countRoots, makeModel, seqBatch, setParams } from '../helpers/diag-models';

const sig = (z: number) => 1 / (1 + Math.exp(-z));

/** Sign of the attractor of a monotone map f iterated from s0. */
function attractor(f: (s: number) => number, s0: number): number {
  let s = s0;
  for (let i = 0; i < 5000; i++) s = f(s);
  return Math.abs(s) < 1e-9 ? 0 : Math.sign(s);
}

test('gridRoots: counts sign changes and grid zeros, tails beyond the grid, and the attractor direction', () => {
  const grid = Float64Array.from({ length: 21 }, (_, k) => -1 + k / 10);
  // D = −(s + 0.55)(s − 0.05)(s − 0.65): roots −0.55 (stable), 0.05 (unstable), 0.65 (stable).
  const D = (s: number) => -(s + 0.55) * (s - 0.05) * (s - 0.65);
  const d = grid.map(D);
  assert.equal(gridRoots(grid, d, 0.2, D(0.2)).count, 3);
  assert.equal(gridRoots(grid, d, 0.2, D(0.2)).branch, 1); // above the unstable root → +0.65
  assert.equal(gridRoots(grid, d, 0.0, D(0.0)).branch, -1); // below it → −0.55
  assert.equal(gridRoots(grid, d, -0.9, D(-0.9)).branch, -1);
  assert.equal(gridRoots(grid, d, 0.95, D(0.95)).branch, 1);
  // One root exactly on the grid point 0.
  const lin = grid.map((s) => -s);
  assert.deepEqual(gridRoots(grid, lin, 0.5, -0.5), { count: 1, branch: 0 });
  // Tails: D > 0 at the right end means a root beyond it.
  const up = grid.map((s) => 2 - s);
  assert.deepEqual(gridRoots(grid, up, 0, 2, true), { count: 1, branch: 1 });
  assert.deepEqual(gridRoots(grid, up, 0, 2, false), { count: 0, branch: 1 });
});

function gruModel() {
  const model = makeModel([{ cell: 'gru', units: 1 }]);
  // z = σ(−3), r = σ(10) ≈ 1, ĥ = tanh(x + r·3h): the self-map is z s + (1 − z) tanh(x + 3 r s).
  setParams(model, {
    'layers.0.kernel': [0, 0, 1],
    'layers.0.recurrent_kernel': [0, 0, 3],
    'layers.0.bias': [-3, 10, 0, 0, 0, 0],
  });
  return model;
}

test('GRU self-map on a hand-set neuron: counts, branches and slope against the formula', () => {
  const model = gruModel();
  const xs = [5, ...new Array(8).fill(0.1), -5, ...new Array(9).fill(0.1)];
  const { x, T, B } = seqBatch([xs]);
  const r = diagnose(model, { input: { x, T, B, y: Float64Array.of(5) }, sections: ['bistability'] });
  const L = r.bistability.layers[0];
  assert.equal(L.method, 'self-map');
  const rr = sig(10);
  const z = sig(-3);
  let h = 0;
  let three = 0;
  for (let t = 0; t < T; t++) {
    const u = xs[t];
    const F = (s: number) => z * s + (1 - z) * Math.tanh(u + 3 * rr * s);
    const roots = countRoots((s) => F(s) - s, -1.5, 1.5);
    if (roots === 3) three++;
    assert.equal(L.fixedPoints[t][0], roots, `count at t=${t}`);
    assert.equal(L.branch[t][0], attractor(F, h), `branch at t=${t}`);
    // Largest slope: z + (1 − z)·3r at tanh's centre s = −u / 3r when inside [−1, 1]; the grid sees it to
    // within its spacing. At the pulses the centre is outside and the slope is smaller.
    const centre = -u / (3 * rr);
    const edge = Math.max(-1, Math.min(1, centre));
    const maxSlope = z + (1 - z) * 3 * rr * (1 - Math.tanh(u + 3 * rr * edge) ** 2);
    assert.ok(L.a[t][0] <= maxSlope + 1e-12 && L.a[t][0] > maxSlope - 0.15, `slope ${L.a[t][0]} vs ${maxSlope}`);
    assert.equal(L.bistable[t][0], maxSlope > 1 ? 1 : 0);
    h = F(h); // the GRU step itself (z and r are constant)
    assert.ok(Math.abs(L.h[t][0] - h) < 1e-12);
    assert.ok(Math.abs(L.c![t][0] - z) < 1e-12, 'c is the update gate z');
  }
  assert.equal(three, T - 2, 'bistable except at the two pulses');
  assert.deepEqual(L.flips, [{ neuron: 0, t: 9, from: 1, to: -1 }]);
});

test('GRU analytic self-maps agree with the generic ones evaluated through the cell (initialState)', () => {
  const model = makeModel([{ cell: 'gru', units: 4 }], { seed: 4 });
  // Strong self-feedback in the candidate (diagonal of RK_h) and open reset gates so that some neurons fold.
  const H = 4;
  const rk = model.params.get('layers.0.recurrent_kernel')!.data;
  for (let j = 0; j < H; j++) rk[j * 3 * H + 2 * H + j] = 2 + j;
  const bias = model.params.get('layers.0.bias')!.data;
  for (let j = 0; j < H; j++) bias[H + j] = 2;
  const rng = new Rng(2);
  const T = 15;
  const xs = Float64Array.from({ length: T }, () => 0.5 * rng.normal());
  const fr = forward(model, xs, T, 1);
  const p = layerParams(model, 0);
  const a = gruSelfMaps(p, xs, fr.layers[0].fwd.h, T, 1, 4);
  const g = genericSelfMaps(gruCell, p, xs, fr.layers[0].fwd.h, T, 1, 4);
  let folds = 0;
  for (let i = 0; i < T * 4; i++) {
    if (a.count[i] > 1) folds++;
    assert.equal(a.count[i], g.count[i], `count ${i}`);
    assert.equal(a.branch[i], g.branch[i], `branch ${i}`);
  }
  assert.ok(folds > 0, 'the case should contain bistable self-maps');
});

test('LSTM self-map on the cell state: hand-set neuron, counts and branches against the formula', () => {
  const model = makeModel([{ cell: 'lstm', units: 1 }]);
  // i = o = σ(10), f = σ(−2), g = tanh(x + 6 h): the map on c is f s + i tanh(x + 6 o tanh s).
  setParams(model, {
    'layers.0.kernel': [0, 0, 1, 0],
    'layers.0.recurrent_kernel': [0, 0, 6, 0],
    'layers.0.bias': [10, -2, 0, 10],
  });
  const xs = [8, ...new Array(8).fill(0.1), -8, ...new Array(9).fill(0.1)];
  const { x, T, B } = seqBatch([xs]);
  const r = diagnose(model, { input: { x, T, B, y: Float64Array.of(8) }, sections: ['bistability'] });
  const L = r.bistability.layers[0];
  const [i, f, o] = [sig(10), sig(-2), sig(10)];
  let c = 0;
  let h = 0;
  let three = 0;
  for (let t = 0; t < T; t++) {
    const u = xs[t];
    const F = (s: number) => f * s + i * Math.tanh(u + 6 * o * Math.tanh(s));
    const roots = countRoots((s) => F(s) - s, -30, 30);
    if (roots === 3) three++;
    assert.equal(L.fixedPoints[t][0], roots, `count at t=${t}`);
    assert.equal(L.branch[t][0], attractor(F, c), `branch at t=${t}`);
    c = f * c + i * Math.tanh(u + 6 * h);
    h = o * Math.tanh(c);
    assert.ok(Math.abs(L.h[t][0] - h) < 1e-12);
    assert.ok(Math.abs(L.c![t][0] - f) < 1e-12, 'c is the forget gate');
  }
  assert.equal(three, T - 2);
  assert.deepEqual(L.flips, [{ neuron: 0, t: 9, from: 1, to: -1 }]);
});

test('LSTM: the generic self-maps through the cell (state h then c) agree with the analytic ones', async () => {
  const { lstmCell } = await import('../../core/cells/lstm');
  const { lstmSelfMaps } = await import('../../core/diagnostics/self-map');
  const model = makeModel([{ cell: 'lstm', units: 3 }], { seed: 7 });
  const H = 3;
  const rk = model.params.get('layers.0.recurrent_kernel')!.data;
  for (let j = 0; j < H; j++) rk[j * 4 * H + 2 * H + j] = 5 + j; // strong self-excitation of the candidate
  const bias = model.params.get('layers.0.bias')!.data;
  for (let j = 0; j < H; j++) bias[3 * H + j] = 3; // output gates open
  const rng = new Rng(6);
  const T = 15;
  const xs = Float64Array.from({ length: T }, () => 0.5 * rng.normal());
  const fr = forward(model, xs, T, 1);
  const p = layerParams(model, 0);
  const f = fr.layers[0].fwd;
  const a = lstmSelfMaps(p, xs, f.h, f.gates.cell, f.gates.o, T, 1, H);
  const g = genericSelfMaps(lstmCell, p, xs, f.h, T, 1, H, undefined, { cs: f.gates.cell, os: f.gates.o });
  let folds = 0;
  for (let i = 0; i < T * H; i++) {
    if (a.count[i] > 1) folds++;
    assert.equal(a.count[i], g.count[i], `count ${i}`);
    assert.equal(a.branch[i], g.branch[i], `branch ${i}`);
  }
  assert.ok(folds > 0, 'the case should contain bistable self-maps');
});
