import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brcParamSpecs } from '../../core/cells/brc-common';
import type { CellDef, CellForward, SeqShape } from '../../core/cells/types';
import { diagnose } from '../../core/diagnostics/diagnose';
import { ridgeProbeR2 } from '../../core/diagnostics/probe';
import { delaySchedule, probeSchedule, retentionApplicable } from '../../core/diagnostics/retention';
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
  let res = 0, tot = 0;
  for (let r = nTrain; r < y.length; r++) {
    const pred = my + X[r].reduce((s, v, j) => s + (v - mx[j]) * w[j], 0);
    res += (y[r] - pred) ** 2;
    tot += (y[r] - mt) ** 2;
  }
  return 1 - res / tot;
}

test('ridge probe R² equals an independent primal solve, in both the primal (d ≤ n) and dual (d > n) form', () => {
  const rng = new Rng(12);
  for (const [n, nTrain, d] of [[40, 25, 3], [20, 8, 15]] as const) {
    const X = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
    const y = X.map((row) => 0.7 * row[0] - 0.4 * row[d - 1] + 0.3 * rng.normal());
    for (const lambda of [1e-2, 0.5]) {
      const got = ridgeProbeR2(Float64Array.from(X.flat()), Float64Array.from(y), n, d, nTrain, lambda);
      const want = ridgeR2Reference(X, y, nTrain, lambda);
      assert.ok(Math.abs(got - want) < 1e-10, `n=${n} d=${d} λ=${lambda}: ${got} vs ${want}`);
    }
  }
});

test('retention: a perfect memory has MSE 0 at every delay and R² ≈ 1; a memoryless layer MSE ≈ 2 and R² ≈ 0', () => {
  const model = makeModel([{ cell: 'brc', units: 2 }], { task: { name: 'copy', T: 40 } });
  setParams(model, { 'readout.kernel': [1, 0], 'readout.bias': [0] });
  // Delays from the retention batch (length 2T); the probe fitted on its own sequences, scored on that batch.
  const keep = fakeCell('keep-first');
  const r = diagnose(model, { cells: () => keep, batch: 64, sections: ['retention'], retention: { batch: 24, probeTrain: 32 } });
  const ret = r.retention!;
  assert.deepEqual(ret.delays, delaySchedule(80));
  assert.ok(ret.mse.every((m) => m === 0), `mse ${ret.mse}`);
  assert.equal(ret.probe.trainSequences, 32);
  assert.equal(ret.probe.testSequences, 24);
  assert.deepEqual(ret.probe.times, probeSchedule(40));
  assert.ok(ret.probe.layers[0].r2.every((v) => v > 0.99), `r2 ${ret.probe.layers[0].r2}`);

  // An explicit (non-task) batch gets the same generated retention batch; the probe covers the T steps.
  const cur = fakeCell('current');
  const rng = new Rng(4);
  const x = Float64Array.from({ length: 40 * 4 }, () => rng.normal());
  const f = diagnose(model, { cells: () => cur, input: { x, T: 40, B: 4, y: new Float64Array(4) }, sections: ['retention'], retention: { batch: 64, probeTrain: 32 } }).retention!;
  assert.deepEqual(f.probe.times, probeSchedule(40));
  assert.equal(f.probe.trainSequences, 32);
  // E(x_d − x_1)² = 2 for independent N(0, 1) inputs.
  assert.ok(f.mse.every((m) => m > 1 && m < 3.5), `mse ${f.mse}`);
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
