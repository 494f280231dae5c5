import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brcParamSpecs } from '../../core/cells/brc-common';
import type { CellDef, CellForward, SeqShape } from '../../core/cells/types';
import { diagnose } from '../../core/diagnostics/diagnose';
import { GCV_GRID, r2Score, RidgeAccumulator, ridgeProbePredict, ridgeProbeR2 } from '../../core/diagnostics/decoding-probe';
import { delaySchedule, PROBE_TRAIN, probeSchedule, RETENTION_BATCH, retentionApplicable } from '../../core/diagnostics/retention';
import { formatEstimate, type Estimate } from '../../core/diagnostics/stats';
import { Rng } from '../../core/util/rng';
import { makeModel, setParams } from '../helpers/diag-models';

/** Hand-built memories with BRC's parameter layout: every unit holds x_1 forever, or the current x_t. */
function fakeCell(mode: 'keep-first' | 'current'): CellDef {
  return {
    kind: 'brc',
    gateNames: [],
    paramSpecs: (i, u) => brcParamSpecs({ cell: 'brc', rec: 'diag', recA: 'w_a', recC: 'w_c' }, i, u),
    forward(_p, x: Float64Array, s: SeqShape): CellForward {
      const h = new Float64Array(s.T * s.B * s.units);
      for (let t = 0; t < s.T; t++) {
        for (let b = 0; b < s.B; b++) {
          const v = x[((mode === 'keep-first' ? 0 : t) * s.B + b) * s.inputSize];
          h.fill(v, (t * s.B + b) * s.units, (t * s.B + b + 1) * s.units);
        }
      }
      return { h, gates: {}, cache: null };
    },
    backward() {
      throw new Error('not needed');
    },
  };
}

/** Ridge regression solved independently in the primal with Gaussian elimination. */
function ridgeR2Reference(X: number[][], y: number[], nTrain: number, lambdaRel: number): number {
  const d = X[0].length;
  const mx = new Array(d).fill(0);
  let my = 0;
  for (let r = 0; r < nTrain; r++) {
    X[r].forEach((v, j) => (mx[j] += v / nTrain));
    my += y[r] / nTrain;
  }
  const A = Array.from({ length: d }, () => new Array(d + 1).fill(0));
  let trace = 0;
  for (let r = 0; r < nTrain; r++) {
    const xc = X[r].map((v, j) => v - mx[j]);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) A[i][j] += xc[i] * xc[j];
      A[i][d] += xc[i] * (y[r] - my);
      trace += xc[i] * xc[i];
    }
  }
  for (let i = 0; i < d; i++) A[i][i] += (lambdaRel * trace) / d;
  for (let i = 0; i < d; i++) {
    for (let k = i + 1; k < d; k++) {
      const f = A[k][i] / A[i][i];
      for (let j = i; j <= d; j++) A[k][j] -= f * A[i][j];
    }
  }
  const w = new Array(d).fill(0);
  for (let i = d - 1; i >= 0; i--) {
    let s = A[i][d];
    for (let j = i + 1; j < d; j++) s -= A[i][j] * w[j];
    w[i] = s / A[i][i];
  }
  const test = y.slice(nTrain);
  const mt = test.reduce((s, v) => s + v, 0) / test.length;
  let res = 0,
    tot = 0;
  for (let r = nTrain; r < y.length; r++) {
    const pred = my + X[r].reduce((s, v, j) => s + (v - mx[j]) * w[j], 0);
    res += (y[r] - pred) ** 2;
    tot += (y[r] - mt) ** 2;
  }
  return 1 - res / tot;
}

test('ridge probe R² equals an independent primal solve, in both the primal (d ≤ n) and dual (d > n) form', () => {
  const rng = new Rng(12);
  for (const [n, nTrain, d] of [
    [40, 25, 3],
    [20, 8, 15],
  ] as const) {
    const X = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
    const y = X.map((row) => 0.7 * row[0] - 0.4 * row[d - 1] + 0.3 * rng.normal());
    for (const lambda of [1e-2, 0.5]) {
      const got = ridgeProbeR2(Float64Array.from(X.flat()), Float64Array.from(y), n, d, nTrain, lambda);
      const want = ridgeR2Reference(X, y, nTrain, lambda);
      assert.ok(Math.abs(got - want) < 1e-10, `n=${n} d=${d} λ=${lambda}: ${got} vs ${want}`);
    }
  }
});

test('the block-wise ridge probe (training rows as sums) equals an independent solve on all the rows', () => {
  const rng = new Rng(31);
  // Features near 0.99 with a spread of 1e-3 (a saturated state): centring from sums must not cancel them away.
  for (const [offset, spread] of [
    [0, 1],
    [0.99, 1e-3],
  ]) {
    const n = 90,
      nTrain = 70,
      d = 6;
    const X = Array.from({ length: n }, () => Array.from({ length: d }, () => Math.fround(offset + spread * rng.normal())));
    const y = X.map((row) => (row[0] - offset) / spread - 0.5 * ((row[3] - offset) / spread) + 0.2 * rng.normal() + 3);
    for (const lambda of [1e-2, 0.5]) {
      const acc = new RidgeAccumulator(d);
      const flat = Float32Array.from(X.flat());
      // Blocks of uneven sizes, as the retention section's last chunk can be.
      for (const [r0, r1] of [
        [0, 1],
        [1, 33],
        [33, 64],
        [64, 70],
      ])
        acc.add(flat.subarray(r0 * d, r1 * d), y, r0, r1 - r0);
      const { pred } = acc.predict(flat.subarray(nTrain * d), n - nTrain, lambda);
      const got = r2Score(y, pred, nTrain);
      const want = ridgeR2Reference(X, y, nTrain, lambda);
      assert.ok(Math.abs(got - want) < 1e-9, `offset ${offset} λ=${lambda}: ${got} vs ${want}`);
      assert.ok(want > 0.5, `the probe should decode y (R² ${want})`);
    }
  }
  const acc = new RidgeAccumulator(2);
  acc.add(Float32Array.from([1, NaN, 2, 3]), [1, 2], 0, 2);
  assert.ok(Number.isNaN(acc.predict(Float32Array.from([1, 2]), 1).pred[0]), 'a NaN training row gives no prediction');
  assert.ok(Number.isNaN(new RidgeAccumulator(2).predict(Float32Array.from([1, 2]), 1).pred[0]), 'no training rows, no prediction');
});

/**
 * GCV of ridge on the centred training rows, from its definition: the hat matrix H = Xc (XcᵀXc + λI)⁻¹ Xcᵀ by
 * Gaussian elimination, RSS = |yc − H yc|², df = trace H, GCV = RSS / (1 − (1 + df) / n)²; then the largest
 * grid λ within a standard error (a factor 1 + √(2/n)) of the smallest score.
 */
function gcvChoiceReference(X: number[][], y: number[], nTrain: number): number {
  const d = X[0].length;
  const mx = new Array(d).fill(0);
  const my = y.slice(0, nTrain).reduce((s, v) => s + v, 0) / nTrain;
  for (let r = 0; r < nTrain; r++) X[r].forEach((v, j) => (mx[j] += v / nTrain));
  const Xc = X.slice(0, nTrain).map((row) => row.map((v, j) => v - mx[j]));
  const yc = y.slice(0, nTrain).map((v) => v - my);
  const trace = Xc.reduce((s, row) => s + row.reduce((a, v) => a + v * v, 0), 0);
  /** (XcᵀXc + λI)⁻¹ b by Gaussian elimination with partial pivoting. */
  const solve = (lambda: number, b: number[]) => {
    const M = Array.from({ length: d }, (_, i) => [
      ...Array.from({ length: d }, (_, j) => Xc.reduce((s, row) => s + row[i] * row[j], 0) + (i === j ? lambda : 0)),
      b[i],
    ]);
    for (let i = 0; i < d; i++) {
      const p = M.reduce((best, row, k) => (k >= i && Math.abs(row[i]) > Math.abs(M[best][i]) ? k : best), i);
      [M[i], M[p]] = [M[p], M[i]];
      for (let k = i + 1; k < d; k++) {
        const f = M[k][i] / M[i][i];
        for (let j = i; j <= d; j++) M[k][j] -= f * M[i][j];
      }
    }
    const w = new Array(d).fill(0);
    for (let i = d - 1; i >= 0; i--) w[i] = (M[i][d] - M[i].slice(i + 1, d).reduce((s, v, k) => s + v * w[i + 1 + k], 0)) / M[i][i];
    return w;
  };
  const scores = GCV_GRID.map((rel) => {
    const lambda = (rel * trace) / d;
    const w = solve(
      lambda,
      Array.from({ length: d }, (_, j) => Xc.reduce((s, row, r) => s + row[j] * yc[r], 0)),
    );
    const rss = Xc.reduce((s, row, r) => s + (yc[r] - row.reduce((a, v, j) => a + v * w[j], 0)) ** 2, 0);
    // trace H = Σ_r xc_rᵀ (XcᵀXc + λI)⁻¹ xc_r.
    const df = Xc.reduce((s, row) => s + solve(lambda, row).reduce((a, v, j) => a + v * row[j], 0), 0);
    const free = 1 - (1 + df) / nTrain;
    return free > 0 ? rss / free ** 2 : Infinity;
  });
  const min = Math.min(...scores);
  for (let k = scores.length - 1; k >= 0; k--) if (scores[k] <= min * (1 + Math.sqrt(2 / nTrain))) return GCV_GRID[k];
  throw new Error('no score');
}

test("the probe's penalty is chosen by GCV as defined (hat matrix by elimination), in the primal, the dual and from sums", () => {
  const rng = new Rng(41);
  // An informative feature with a thousandth of the others' spread (x_1 held as a small deviation on a
  // saturated branch), plus noise features; and a target that only the noise features explain weakly.
  for (const [n, nTrain, d, weak] of [
    [80, 60, 5, false],
    [80, 60, 5, true],
    [50, 12, 20, false],
  ] as const) {
    const X = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
    const y = X.map((row) => (weak ? 0.2 * row[1] + rng.normal() : rng.normal()));
    if (!weak) X.forEach((row, r) => (row[0] = 0.99 + 1e-3 * (y[r] + 0.05 * rng.normal())));
    const flat = Float64Array.from(X.flat());
    const want = gcvChoiceReference(X, y, nTrain);
    const got = ridgeProbePredict(flat, Float64Array.from(y), n, d, nTrain).lambda;
    assert.equal(got, want, `n=${nTrain} d=${d}${weak ? ' weak' : ''}: λ_rel ${got} vs ${want}`);
    if (d < nTrain) {
      const acc = new RidgeAccumulator(d);
      acc.add(flat.subarray(0, 7 * d), y, 0, 7);
      acc.add(flat.subarray(7 * d, nTrain * d), y, 7, nTrain - 7);
      assert.equal(acc.predict(flat.subarray(nTrain * d), n - nTrain).lambda, want, 'from sums');
    }
    if (!weak && d < nTrain) {
      // The small informative feature decodes y; a penalty of a tenth of the mean variance shrank it away.
      const r2 = ridgeProbeR2(flat, Float64Array.from(y), n, d, nTrain);
      assert.ok(r2 > 0.9 && ridgeProbeR2(flat, Float64Array.from(y), n, d, nTrain, 0.1) < 0.2, `R² ${r2}`);
    }
  }
});

test('planted memory in a unit a thousandth as spread as the others: the probe decodes it at every step', () => {
  // Unit 0 holds x_1 as a small deviation around 0.99 (a saturated branch); units 1–9 are noise of spread 1.
  const state = (_t: number, x1: number, _xt: number, noise: () => number, u: number) =>
    u === 0 ? 0.99 + 1e-3 * (x1 + 0.1 * noise()) : noise();
  const { ret, sentences } = runPlanted(state, { units: 10, lambda: undefined, probeTrain: 256, batch: 128 });
  assert.equal(ret.probe.lambda, 'gcv');
  const pl = ret.probe.layers[0];
  assert.ok(
    pl.r2Estimate!.every((e) => e.lo > 0.9),
    `R² ${pl.r2.map((v) => v.toFixed(2))}`,
  );
  assert.equal(pl.lambda!.length, ret.probe.times!.length);
  assert.match(sentences.find((s) => /linear probe/.test(s.text))!.text, /from layer 1 for all 50 steps\.$/);
});

test('retention: a perfect memory has MSE 0 at every delay and R² ≈ 1; a memoryless layer MSE ≈ 2 and R² ≈ 0', () => {
  const model = makeModel([{ cell: 'brc', units: 2 }], { task: { name: 'copy', T: 40 } });
  setParams(model, { 'readout.kernel': [1, 0], 'readout.bias': [0] });
  // Delays from the retention batch (length 2T); the probe fitted on its own sequences, scored on that batch.
  const keep = fakeCell('keep-first');
  const r = diagnose(model, { cells: () => keep, batch: 64, sections: ['retention'], retention: { batch: 24, probeTrain: 32 } });
  const ret = r.retention!;
  assert.deepEqual(ret.delays, delaySchedule(80));
  assert.ok(
    ret.mse.every((m) => m === 0),
    `mse ${ret.mse}`,
  );
  assert.equal(ret.probe.trainSequences, 32);
  assert.equal(ret.probe.testSequences, 24);
  assert.deepEqual(ret.probe.times, probeSchedule(40));
  assert.ok(
    ret.probe.layers[0].r2.every((v) => v > 0.99),
    `r2 ${ret.probe.layers[0].r2}`,
  );

  // An explicit (non-task) batch gets the same generated retention batch; the probe covers the T steps.
  const cur = fakeCell('current');
  const rng = new Rng(4);
  const x = Float64Array.from({ length: 40 * 4 }, () => rng.normal());
  const f = diagnose(model, {
    cells: () => cur,
    input: { x, T: 40, B: 4, y: new Float64Array(4) },
    sections: ['retention'],
    retention: { batch: 64, probeTrain: 32 },
  }).retention!;
  assert.deepEqual(f.probe.times, probeSchedule(40));
  assert.equal(f.probe.trainSequences, 32);
  // E(x_d − x_1)² = 2 for independent N(0, 1) inputs.
  assert.ok(
    f.mse.every((m) => m > 1 && m < 3.5),
    `mse ${f.mse}`,
  );
  const r2 = f.probe.layers[0].r2;
  assert.ok(r2[0] > 0.99, 'h_1 = x_1');
  const later = r2.slice(1);
  const mean = later.reduce((s, v) => s + v, 0) / later.length;
  assert.ok(Math.max(...later) < 0.3 && mean > -0.2 && mean < 0.1, `later r2 mean ${mean}, max ${Math.max(...later)}`);
});

test('retention applies only to one input and one linear output; schedules are log/evenly spaced', () => {
  assert.equal(retentionApplicable(makeModel([{ cell: 'gru', units: 2 }]).arch), true);
  assert.equal(retentionApplicable(makeModel([{ cell: 'gru', units: 2 }], { inputSize: 2 }).arch), false);
  const soft = makeModel([{ cell: 'gru', units: 2 }]);
  soft.arch.readout.activation = 'softmax';
  assert.equal(retentionApplicable(soft.arch), false);
  const two = makeModel([{ cell: 'gru', units: 3 }], { inputSize: 2 });
  const rng = new Rng(1);
  const x = Float64Array.from({ length: 4 * 3 * 2 }, () => rng.normal());
  const r = diagnose(two, { input: { x, T: 4, B: 3, y: new Float64Array(3) }, sections: ['retention'] });
  assert.equal(r.retention, null);

  const d = delaySchedule(600);
  assert.equal(d[0], 5);
  assert.equal(d[d.length - 1], 600);
  assert.equal(d.length, 10);
  for (let i = 0; i < d.length; i++) {
    if (i > 0) assert.ok(d[i] > d[i - 1]);
    // Log-spaced: log d_i on the straight line from log 5 to log 600, up to rounding to integers.
    assert.ok(Math.abs(Math.log(d[i]) - (Math.log(5) + (i / 9) * Math.log(120))) < 0.06, `delay ${d[i]}`);
  }
  assert.deepEqual(delaySchedule(3), [3]);
  assert.deepEqual(probeSchedule(5), [0, 1, 2, 3, 4]);
  const p = probeSchedule(1000, 100);
  assert.equal(p.length, 100);
  assert.equal(p[0], 0);
  assert.equal(p[99], 999);
});

// ---------------------------------------------------------------------------------------------------------
// Planted memories with known answers, intervals, seed stability and the sentences drawn from them

/**
 * A one-layer cell with BRC's parameter layout whose state at time index t is `state(t, x_1, x_t, noise)`
 * on every unit u (noise: the cell's own N(0, 1) draws, independent per step, sequence and unit). `seen`
 * collects x_1 of every sequence run over 2T steps (the retention batch) for independent checks.
 */
function plantedCell(state: (t: number, x1: number, xt: number, noise: () => number, u: number) => number, seed = 99) {
  const rng = new Rng(seed);
  const seen: number[] = [];
  const cell: CellDef = {
    kind: 'brc',
    gateNames: [],
    paramSpecs: (i, u) => brcParamSpecs({ cell: 'brc', rec: 'diag', recA: 'w_a', recC: 'w_c' }, i, u),
    forward(_p, x: Float64Array, s: SeqShape): CellForward {
      const h = new Float64Array(s.T * s.B * s.units);
      if (s.T === 2 * T_PLANT) for (let b = 0; b < s.B; b++) seen.push(x[b]);
      const noise = () => rng.normal();
      for (let t = 0; t < s.T; t++) {
        for (let b = 0; b < s.B; b++) {
          for (let u = 0; u < s.units; u++) h[(t * s.B + b) * s.units + u] = state(t, x[b], x[t * s.B + b], noise, u);
        }
      }
      return { h, gates: {}, cache: null };
    },
    backward() {
      throw new Error('not needed');
    },
  };
  return { cell, seen };
}

const T_PLANT = 50;
/** Memory of x_1 fading with factor ρ per step, the rest filled with the current input: var(h_t) = 1. */
const fading = (rho: number) => (t: number, x1: number, xt: number) => rho ** t * x1 + Math.sqrt(1 - rho ** (2 * t)) * xt;
/** x_1 held (with a little noise) for K steps, then mostly replaced by the current input. */
const forgetsAt = (K: number) => (t: number, x1: number, xt: number, noise: () => number) => (t < K ? x1 + 0.2 * noise() : 0.3 * x1 + xt);

function plantedModel(units = 1): ReturnType<typeof makeModel> {
  const model = makeModel([{ cell: 'brc', units }], { task: { name: 'copy', T: T_PLANT } });
  setParams(model, { 'readout.kernel': Array.from({ length: units }, (_, u) => (u === 0 ? 1 : 0)), 'readout.bias': [0] });
  return model;
}

function runPlanted(
  state: Parameters<typeof plantedCell>[0],
  opts: { seed?: number; batch?: number; probeTrain?: number; units?: number; lambda?: number } = {},
) {
  const { cell, seen } = plantedCell(state, 1000 + (opts.seed ?? 1));
  const r = diagnose(plantedModel(opts.units), {
    cells: () => cell,
    batch: 8,
    seed: opts.seed ?? 1,
    sections: ['retention'],
    // A tiny fixed penalty matches the closed forms; a test that passes lambda: undefined gets the default (GCV).
    retention: { batch: opts.batch, probeTrain: opts.probeTrain, lambda: 'lambda' in opts ? opts.lambda : 1e-9 },
  });
  return { report: r, ret: r.retention!, seen, sentences: r.diagnosis.filter((s) => s.refs.some((p) => p.startsWith('retention'))) };
}

const covers = (e: Estimate, v: number) => e.lo - 1e-12 <= v && v <= e.hi + 1e-12;
const coverage = (es: readonly Estimate[], vs: readonly number[]) => es.filter((e, i) => covers(e, vs[i])).length / es.length;
/** The verdict of a sentence: its text without the estimates (numbers with decimals and their intervals). */
const verdict = (text: string) => text.replace(/\d+\.\d+(e[-+]?\d+)? \(95 % CI [^)]*\)/g, '#').replace(/\d+\.\d+(e[-+]?\d+)?/g, '#');

test('planted fading memory: MSE per delay, readout R² and probe R² follow the closed form within their intervals', () => {
  const rho = 0.98;
  const family = { mse: [] as number[], readout: [] as number[], probe: [] as number[] };
  for (const seed of [1, 2, 3]) {
    const { ret } = runPlanted(fading(rho), { seed });
    assert.equal(ret.mseEstimate!.length, ret.delays.length);
    assert.equal(ret.mseEstimate![0].n, RETENTION_BATCH);
    assert.equal(ret.probe.trainSequences, PROBE_TRAIN);
    // Readout of h_{d−1} = ρ^k x_1 + √(1 − ρ^2k) x_k (k = d − 1): MSE = (1 − ρ^k)² + 1 − ρ^2k = 2 − 2ρ^k.
    const mse = ret.delays.map((d) => 2 - 2 * rho ** (d - 1));
    family.mse.push(coverage(ret.mseEstimate!, mse));
    ret.mse.forEach((m, i) => assert.ok(Math.abs(m - mse[i]) < 0.25 * mse[i] + 0.02, `delay ${ret.delays[i]}: ${m} vs ${mse[i]}`));
    const times = ret.probe.times!;
    // R² of that readout at time t: 1 − (2 − 2ρ^t) = 2ρ^t − 1; the best linear decoder: corr² = ρ^2t.
    family.readout.push(
      coverage(
        ret.probe.readoutR2!,
        times.map((t) => 2 * rho ** t - 1),
      ),
    );
    family.probe.push(
      coverage(
        ret.probe.layers[0].r2Estimate!,
        times.map((t) => rho ** (2 * t)),
      ),
    );
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  // 95 % intervals: most closed-form values inside (an interval half as wide would cover about 68 %).
  for (const [name, c] of Object.entries(family)) assert.ok(mean(c) >= 0.85, `${name} coverage ${c}`);
});

test('intervals from the default batch cover the values of a 10× larger batch', () => {
  const rho = 0.98;
  const big = runPlanted(fading(rho), { seed: 100, batch: 10 * RETENTION_BATCH, probeTrain: 10 * PROBE_TRAIN }).ret;
  assert.equal(big.mseEstimate![0].n, 10 * RETENTION_BATCH);
  // Five default-sized batches: each 95 % interval should miss the (nearly exact) large-batch value rarely.
  const c = { mse: [] as number[], chance: [] as number[], readout: [] as number[], probe: [] as number[] };
  for (const seed of [1, 2, 3, 4, 5]) {
    const small = runPlanted(fading(rho), { seed }).ret;
    c.mse.push(coverage(small.mseEstimate!, big.mse));
    c.chance.push(coverage([small.chance!], [big.chance!.value]));
    c.readout.push(
      coverage(
        small.probe.readoutR2!,
        big.probe.readoutR2!.map((e) => e.value),
      ),
    );
    c.probe.push(coverage(small.probe.layers[0].r2Estimate!, big.probe.layers[0].r2));
    // And the larger batch narrows them about √10-fold.
    const width = (e: Estimate) => e.hi - e.lo;
    const i = small.delays.length - 1;
    const ratio = width(small.mseEstimate![i]) / width(big.mseEstimate![i]);
    assert.ok(ratio > 2.2 && ratio < 4.5, `width ratio ${ratio}`);
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  for (const [name, v] of Object.entries(c)) assert.ok(mean(v) >= 0.8, `${name} coverage ${v}`);
});

test('planted memory that forgets after 30 steps: the same verdicts for every seed, stating where recall ends', () => {
  const texts = [1, 2, 3, 4].map((seed) => runPlanted(forgetsAt(30), { seed, lambda: undefined }).sentences.map((s) => verdict(s.text)));
  for (const t of texts) assert.deepEqual(t, texts[0]);
  const [recall, probe] = texts[0];
  // Delays 5 … 100 for T = 50: 26 is the last within the 30 held steps, 37 the first after.
  assert.deepEqual(delaySchedule(100), [5, 7, 10, 14, 19, 26, 37, 51, 72, 100]);
  assert.match(
    recall,
    /recalled accurately \(MSE < #\) up to a delay of 26 steps and is mostly lost \(MSE > #; 1 = chance; chance on this batch: #\) from 37 steps/,
  );
  // Probed at every step of T = 50 and read on the log grid 1, 5, 6, 8, 11, 14, 18, 23, 30, 39, 50 steps: the
  // state after 30 steps is the last that holds x_1.
  assert.match(probe, /decodes x_1 .* from layer 1 for at least 30 steps but fewer than 39\.$/);
});

test('"1 = chance" comes with the chance level of this batch: the variance of its x_1, with an interval', () => {
  // A memoryless cell (h_t = x_t): never recalled, best MSE ≈ 2, and the sentence states the batch's chance.
  const { ret, seen, sentences } = runPlanted((_t, _x1, xt) => xt, { batch: 64, probeTrain: 16 });
  assert.equal(seen.length, 64, 'the retention batch');
  const m = seen.reduce((s, v) => s + v, 0) / seen.length;
  const v = seen.reduce((s, x) => s + (x - m) ** 2, 0) / seen.length;
  assert.ok(Math.abs(ret.chance!.value - v) < 1e-12, `${ret.chance!.value} vs ${v}`);
  assert.ok(ret.chance!.lo < v && v < ret.chance!.hi && ret.chance!.n === 64);
  const s = sentences[0];
  assert.equal(s.severity, 'warning');
  assert.ok(s.text.includes(`x_1 is never recalled accurately`), s.text);
  assert.ok(s.text.includes(`1 = chance; chance on this batch: ${formatEstimate(ret.chance!)}`), s.text);
  // The curve is flat (MSE ≈ 2 at every delay): where it dips is noise, so no delay is named for its minimum.
  assert.doesNotMatch(s.text, /MSE at \d+/);
  assert.ok(s.text.includes(`lowest MSE ${formatEstimate(ret.mseEstimate!.reduce((a, e) => (e.value < a.value ? e : a)))}`), s.text);
  assert.ok(s.refs.includes('retention.chance') && s.refs.includes('retention.mseEstimate'));
});

test('recalled at longer delays but not at the shortest: the sentence names the run of delays with sure recall', () => {
  // h_t = x_t for the first 6 steps, then x_1 for ever: a delay of 5 misses, every later delay recalls.
  const { ret, sentences } = runPlanted((t, x1, xt) => (t < 6 ? xt : x1), { batch: 64, probeTrain: 16 });
  assert.ok(ret.delays[0] <= 6 && ret.delays[1] > 6, `delays ${ret.delays}`);
  const s = sentences[0].text;
  assert.match(
    s,
    new RegExp(`recalled accurately \\(MSE < 0\\.1\\) at every tested delay from ${ret.delays[1]} to ${ret.delays.at(-1)} steps`),
  );
  assert.match(s, new RegExp(`but not at the shorter delay of ${ret.delays[0]} steps`));
  assert.doesNotMatch(s, /inconclusive|never recalled/);
});

test('recall right at the threshold is reported as inconclusive, naming the flag that narrows the interval', () => {
  // h_t = x_1 + √0.1 ε: MSE = 0.1 at every delay, so no batch can decide "< 0.1"; the old rule said either.
  const { sentences } = runPlanted((_t, x1, _xt, noise) => x1 + Math.sqrt(0.1) * noise(), { batch: 64, probeTrain: 16 });
  const s = sentences[0].text;
  assert.match(s, /inconclusive at a delay of 5 steps/);
  assert.match(s, /raise --retention-batch \(now 64/);
  assert.doesNotMatch(s, /recalled accurately \(MSE < 0\.1\) (up to|at every)/);
  assert.doesNotMatch(s, /never recalled/);
});

test("a probe fitted on too few sequences is flagged as underpowered against the model's own readout", () => {
  // Unit 0 holds x_1; 39 more units are noise. The readout (unit 0) decodes x_1 with R² ≈ 1 at every step.
  const state = (_t: number, x1: number, _xt: number, noise: () => number, u: number) => (u === 0 ? x1 + 0.1 * noise() : noise());
  const weak = runPlanted(state, { units: 40, probeTrain: 8, batch: 64, lambda: undefined });
  assert.ok(
    weak.ret.probe.readoutR2!.every((e) => e.lo > 0.9),
    'readout R² ≈ 0.99',
  );
  const flag = weak.sentences.find((s) => /underpowered/.test(s.text));
  assert.ok(flag, weak.sentences.map((s) => s.text).join('\n'));
  assert.match(flag.text, /raise --probe-train \(now 8/);
  assert.equal(flag.severity, 'warning');
  // Enough training sequences: the probe matches the readout and nothing is flagged.
  const strong = runPlanted(state, { units: 40, probeTrain: 400, batch: 64, lambda: undefined });
  assert.ok(strong.ret.probe.layers[0].r2Estimate!.every((e) => e.hi > 0.9));
  assert.equal(
    strong.sentences.find((s) => /underpowered/.test(s.text)),
    undefined,
    strong.sentences.map((s) => s.text).join('\n'),
  );
});

test('the extension settings declare the same default sizes as the CLI and the core', async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const props = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).contributes.configuration.properties;
  assert.equal(props['rnnMemory.diagnostics.retentionBatch'].default, RETENTION_BATCH);
  assert.equal(props['rnnMemory.diagnostics.probeTrain'].default, PROBE_TRAIN);
  const { DIAGNOSE_HELP } = await import('../../core/cli/diagnose');
  assert.match(DIAGNOSE_HELP, new RegExp(`--retention-batch N[\\s\\S]*\\(${RETENTION_BATCH};`));
  assert.match(DIAGNOSE_HELP, new RegExp(`--probe-train N[\\s\\S]*\\(${PROBE_TRAIN};`));
});
