import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstmCell } from '../../core/cells/lstm';
import { diagnose } from '../../core/diagnostics/diagnose';
import { eigenvalues, spectralRadius } from '../../core/diagnostics/matrix';
import { pca2 } from '../../core/diagnostics/pca';
import { layerParams } from '../../core/model/network';
import { Rng } from '../../core/util/rng';
import { makeModel, seqBatch, setParams } from '../helpers/diag-models';

/** A random orthogonal n×n matrix (Gram–Schmidt), rows as arrays. */
function randomOrthogonal(rng: Rng, n: number): number[][] {
  const Q: number[][] = [];
  while (Q.length < n) {
    let v = Array.from({ length: n }, () => rng.normal());
    for (const q of Q) {
      const d = v.reduce((s, x, i) => s + x * q[i], 0);
      v = v.map((x, i) => x - d * q[i]);
    }
    const nv = Math.hypot(...v);
    Q.push(v.map((x) => x / nv));
  }
  return Q;
}

test('eigenvalues of Q·blockdiag·Qᵀ: real, negative and complex pairs, and the spectral radius', () => {
  const rng = new Rng(21);
  const n = 7;
  const th = 0.7;
  const D: number[][] = Array.from({ length: n }, () => new Array(n).fill(0));
  const want: [number, number][] = [
    [0.5, 0],
    [-1.2, 0],
    [0.9, 0],
    [1.1 * Math.cos(th), 1.1 * Math.sin(th)],
    [1.1 * Math.cos(th), -1.1 * Math.sin(th)],
    [0, 0],
    [-0.3, 0],
  ];
  D[0][0] = 0.5;
  D[1][1] = -1.2;
  D[2][2] = 0.9;
  D[3][3] = 1.1 * Math.cos(th);
  D[3][4] = -1.1 * Math.sin(th);
  D[4][3] = 1.1 * Math.sin(th);
  D[4][4] = 1.1 * Math.cos(th);
  D[5][5] = 0;
  D[6][6] = -0.3;
  const Q = randomOrthogonal(rng, n);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) for (let l = 0; l < n; l++) s += Q[k][i] * D[k][l] * Q[l][j];
      A[i * n + j] = s;
    }
  const { re, im } = eigenvalues(A, n);
  const got = Array.from(re, (r, i) => [r, im[i]] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const exp = [...want].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  got.forEach((g, i) => assert.ok(Math.hypot(g[0] - exp[i][0], g[1] - exp[i][1]) < 1e-10, `${g} vs ${exp[i]}`));
  assert.ok(Math.abs(spectralRadius(A, n) - 1.2) < 1e-10);
  // A triangular (already Hessenberg) matrix: eigenvalues are its diagonal.
  const U = Float64Array.from([2, 5, -1, 0, -3, 4, 0, 0, 0.25]);
  assert.deepEqual(
    Array.from(eigenvalues(U, 3).re).sort((a, b) => a - b),
    [-3, 0.25, 2],
  );
});

test('pca2 recovers the two spread directions and their variance shares', () => {
  const rng = new Rng(3);
  const d = 5;
  const [u1, u2] = randomOrthogonal(rng, d);
  const n = 400;
  const rows = new Float64Array(n * d);
  // Exactly uncorrelated coordinates with variances 9/2 and 1/2 (a full period of cos and sin).
  for (let r = 0; r < n; r++) {
    const a = 3 * Math.cos((2 * Math.PI * r) / n);
    const b = Math.sin((2 * Math.PI * r) / n);
    for (let j = 0; j < d; j++) rows[r * d + j] = 0.5 + a * u1[j] + b * u2[j];
  }
  const p = pca2(rows, n, d);
  const dot = (x: ArrayLike<number>, y: number[]) => y.reduce((s, v, j) => s + v * x[j], 0);
  assert.ok(Math.abs(Math.abs(dot(p.axes[0], u1)) - 1) < 1e-8);
  assert.ok(Math.abs(Math.abs(dot(p.axes[1], u2)) - 1) < 1e-8);
  assert.ok(Math.abs(p.explained[0] + p.explained[1] - 1) < 1e-9);
  assert.ok(Math.abs(p.explained[0] - 0.9) < 1e-9 && Math.abs(p.explained[1] - 0.1) < 1e-9, String(p.explained));
  // The data lie in the plane of the two axes, so projecting keeps the distance to the mean.
  const [x, y] = p.project(rows, 7 * d);
  const sq = Array.from(rows.subarray(7 * d, 8 * d), (v, j) => v - p.mean[j]).reduce((s, v) => s + v * v, 0);
  assert.ok(Math.abs(x * x + y * y - sq) < 1e-6 * sq);
});

test('fixed points of a hand-built 2-neuron BRC: (±h*, 0) stable, (0, 0) unstable, with exact eigenvalues', () => {
  const model = makeModel([{ cell: 'brc', units: 2 }]);
  // Neuron 0: a = 1.5 (bistable), neuron 1: a = 0.5; both c = ½ and no cross-talk (BRC recurrence is cellular).
  setParams(model, {
    'layers.0.U_a': [0, 0],
    'layers.0.w_a': [0, 0],
    'layers.0.b_a': [Math.atanh(0.5), Math.atanh(-0.5)],
    'layers.0.U_c': [0, 0],
    'layers.0.w_c': [0, 0],
    'layers.0.b_c': [0, 0],
    'layers.0.U': [1, 1],
  });
  const { x, T, B } = seqBatch([[3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]);
  const r = diagnose(model, { input: { x, T, B, y: Float64Array.of(3) }, sections: ['fixedPoints'] });
  const fp = r.fixedPoints;
  assert.equal(fp.layer, 0);
  assert.deepEqual(fp.input, [0]);
  assert.deepEqual(fp.layerInput, [0]);
  // h* = tanh(1.5 h*) by bisection.
  let lo = 0.1,
    hi = 1;
  for (let i = 0; i < 200; i++) {
    const m = (lo + hi) / 2;
    if (Math.tanh(1.5 * m) > m) lo = m;
    else hi = m;
  }
  const hs = lo;
  const lam = (h0: number) => Math.max(0.5 + 0.5 * 1.5 * (1 - h0 * h0), 0.5 + 0.5 * 0.5);
  const expected = [
    { state: [hs, 0], rho: lam(hs), stability: 'stable' },
    { state: [-hs, 0], rho: lam(hs), stability: 'stable' },
    { state: [0, 0], rho: lam(0), stability: 'unstable' },
  ];
  assert.equal(fp.points.length, 3, JSON.stringify(fp.points.map((p) => p.state)));
  for (const e of expected) {
    const p = fp.points.find((q) => Math.hypot(q.state[0] - e.state[0], q.state[1] - e.state[1]) < 1e-7);
    assert.ok(p, `missing fixed point ${e.state}`);
    assert.equal(p.stability, e.stability);
    assert.equal(p.slow, false);
    assert.ok(p.residual < 1e-8);
    assert.ok(Math.abs(p.maxEigenvalue - e.rho) < 1e-5, `${p.maxEigenvalue} vs ${e.rho}`);
  }
  assert.equal(fp.observed.length, T);
  assert.ok(fp.trajectories.length > 0 && fp.trajectories.every((t) => t.every((pt) => pt.length === 2)));
  // Exact per-neuron count: neuron 0 has ±h*, neuron 1 only 0, so the layer has 2 stable states.
  // The input never moves the state after the first step, so no basin condition (effect 0) and no marginal neuron.
  assert.deepEqual(fp.cellular, {
    units: 2,
    stablePerNeuron: [2, 1],
    bistableNeurons: 1,
    log2StableStates: 1,
    margin: 1e-3,
    marginalPerNeuron: [0, 0],
    marginalNeurons: 0,
    inputEffect: [0, 0],
  });
  assert.match(
    r.diagnosis.map((s) => s.text).join('\n'),
    /1 of layer 1's 2 neurons has two stable states .* giving the layer 2 stable states/,
  );
});

test("BRC neurons' stable states (state-dependent a and c, input drive) match brute-force iteration of each neuron", async () => {
  const { brcCellularAttractors } = await import('../../core/diagnostics/fixed-points');
  const rng = new Rng(31);
  const I = 2,
    H = 12;
  const r = (s: number) => Float64Array.from({ length: H }, () => s * rng.normal());
  const p = {
    U: Float64Array.from({ length: I * H }, () => 0.4 * rng.normal()),
    U_a: Float64Array.from({ length: I * H }, () => 0.5 * rng.normal()),
    U_c: Float64Array.from({ length: I * H }, () => 0.5 * rng.normal()),
    w_a: r(1.5),
    w_c: r(1.5),
    b_a: r(1),
    b_c: r(1),
  };
  const u = [0.3, -0.2];
  const got = brcCellularAttractors(p, u, I, H);
  let bistable = 0;
  for (let j = 0; j < H; j++) {
    let d = 0,
      pa = p.b_a[j],
      pc = p.b_c[j];
    for (let i = 0; i < I; i++) {
      d += u[i] * p.U[i * H + j];
      pa += u[i] * p.U_a[i * H + j];
      pc += u[i] * p.U_c[i * H + j];
    }
    const F = (h: number) => {
      const a = 1 + Math.tanh(pa + p.w_a[j] * h);
      const c = 1 / (1 + Math.exp(-(pc + p.w_c[j] * h)));
      return c * h + (1 - c) * Math.tanh(d + a * h);
    };
    // Iterate from 101 starts across (−1, 1); distinct limits are the stable fixed points.
    const limits: number[] = [];
    for (let k = 0; k <= 100; k++) {
      let h = -0.999 + (1.998 * k) / 100;
      for (let it = 0; it < 20000; it++) h = F(h);
      if (Math.abs(F(h) - h) < 1e-10 && !limits.some((l) => Math.abs(l - h) < 1e-6)) limits.push(h);
    }
    assert.equal(got.stablePerNeuron[j], limits.length, `neuron ${j}: limits ${limits.map((v) => v.toFixed(4))}`);
    if (limits.length >= 2) bistable++;
  }
  assert.equal(got.bistableNeurons, bistable);
  assert.ok(bistable > 0 && bistable < H, `the random layer should mix mono- and bistable neurons (got ${bistable} of ${H})`);
  assert.ok(Math.abs(got.log2StableStates - got.stablePerNeuron.reduce((s, n) => s + Math.log2(n), 0)) < 1e-12);
});

test('LSTM fixed points (state h then c): each one is a fixed point of the cell and its stability holds in simulation', () => {
  const model = makeModel(
    [
      { cell: 'gru', units: 3 },
      { cell: 'lstm', units: 2 },
    ],
    { seed: 5 },
  );
  const rk = model.params.get('layers.1.recurrent_kernel')!.data;
  for (let i = 0; i < rk.length; i++) rk[i] *= 4;
  const rng = new Rng(2);
  const { x, T, B } = seqBatch([Array.from({ length: 30 }, () => rng.normal()), Array.from({ length: 30 }, () => rng.normal())]);
  const r = diagnose(model, { input: { x, T, B, y: new Float64Array(B) }, sections: ['fixedPoints'] });
  const fp = r.fixedPoints;
  assert.equal(fp.layer, 1);
  assert.equal(fp.layerInput!.length, 3);
  const p = layerParams(model, 1);
  const xin = Float64Array.from(fp.layerInput!);
  const step = (s: Float64Array, steps: number) => {
    const xs = new Float64Array(steps * 3);
    for (let t = 0; t < steps; t++) xs.set(xin, t * 3);
    const f = lstmCell.forward(p, xs, { T: steps, B: 1, inputSize: 3, units: 2 }, s);
    const o = (steps - 1) * 2;
    return Float64Array.of(f.h[o], f.h[o + 1], f.gates.cell[o], f.gates.cell[o + 1]);
  };
  const fixed = fp.points.filter((q) => !q.slow);
  assert.ok(fixed.length >= 1);
  for (const q of fixed) {
    assert.equal(q.state.length, 4);
    const s = Float64Array.from(q.state);
    const next = step(s, 1);
    assert.ok(Math.hypot(...next.map((v, i) => v - s[i])) < 1e-7, 'F(s) = s');
    const pert = s.map((v, i) => v + 1e-6 * (i % 2 ? 1 : -1));
    const far = step(pert, 200);
    const dist = Math.hypot(...far.map((v, i) => v - s[i]));
    if (q.stability === 'stable') assert.ok(dist < 1e-7, `stable point drifted to ${dist}`);
    if (q.stability === 'unstable' && q.maxEigenvalue > 1.05) assert.ok(dist > 1e-5, `unstable point stayed (${dist})`);
  }
});

test('the search follows slow dynamics (update gate near 1) to the stable branches, and stops early when all settle', async () => {
  const { searchFixedPoints } = await import('../../core/diagnostics/fixed-points');
  const { makeStepper } = await import('../../core/diagnostics/state');
  const { brcCell } = await import('../../core/cells/brc');
  // Three identical BRC neurons, a = 1.5, no input: stable roots ±h* of tanh(1.5 h) = h, unstable 0.
  const hStar = (() => {
    let h = 1;
    for (let i = 0; i < 200; i++) h = Math.tanh(1.5 * h);
    return h;
  })();
  const run = (bc: number, starts: number[][], steps?: number) => {
    const model = makeModel([{ cell: 'brc', units: 3 }]);
    setParams(model, {
      'layers.0.U_a': [0, 0, 0],
      'layers.0.w_a': [0, 0, 0],
      'layers.0.b_a': new Array(3).fill(Math.atanh(0.5)),
      'layers.0.U_c': [0, 0, 0],
      'layers.0.w_c': [0, 0, 0],
      'layers.0.b_c': new Array(3).fill(bc),
      'layers.0.U': [1, 1, 1],
    });
    const st = makeStepper(brcCell, layerParams(model, 0), 1, 3);
    return searchFixedPoints(st, new Float64Array(1), Float64Array.from(starts.flat()), starts.length, steps ? { steps } : {});
  };
  // c = σ(3) ≈ 0.95: from states a quarter of the way to ±h* the dynamics need ~150 steps to pass the
  // fold of tanh(1.5 h) − h, before which the root refinement falls back to the unstable origin.
  const starts = [
    [0.25 * hStar, -0.25 * hStar, 0.25 * hStar],
    [-0.2 * hStar, -0.2 * hStar, 0.3 * hStar],
  ];
  const short = run(3, starts, 40);
  assert.ok(!short.points.some((p) => p.stability === 'stable'), 'the old 40-step search should miss the attractors here');
  const slow = run(3, starts);
  const stable = slow.points.filter((p) => p.stability === 'stable' && !p.slow);
  assert.ok(stable.length >= 2, `stable points found: ${stable.length}`);
  for (const p of stable)
    for (const v of p.state) assert.ok(Math.abs(Math.abs(v) - hStar) < 1e-6, `coordinate ${v} is not ±h* = ±${hStar}`);
  // Each stable point lies on the branches its start pointed to (signs kept).
  assert.ok(stable.some((p) => p.state[0] > 0 && p.state[1] < 0 && p.state[2] > 0));
  // c = σ(−3): the same starts settle within a few chunks and the run stops early.
  const fast = run(-3, [starts[0]]);
  assert.ok(fast.trajectories[0].length < 201 * 3, `a settled run stops early (${fast.trajectories[0].length / 3 - 1} steps)`);
});

test('a stepper under a constant input (folded into one input row) steps exactly like the cell on the repeated input', async () => {
  const { makeStepper, packStates } = await import('../../core/diagnostics/state');
  const { layerCell } = await import('../../core/cells/index');
  const { noisyParams } = await import('../helpers/params');
  const rng = new Rng(77);
  const I = 3,
    H = 4,
    n = 2,
    steps = 5;
  const specs = [
    { cell: 'brc' as const },
    { cell: 'nbrc' as const },
    { cell: 'gru' as const },
    { cell: 'lstm' as const },
    { cell: 'gru' as const, resetAfter: false },
    { cell: 'lstm' as const, recurrentActivation: 'hard_sigmoid' as const },
    { cell: 'simple_rnn' as const },
  ];
  for (const spec of specs) {
    const def = layerCell(spec);
    const p = noisyParams(def, I, H, rng, 0.5);
    const st = makeStepper(def, p, I, H);
    const x = Float64Array.from({ length: I }, () => rng.normal());
    const states = Float64Array.from({ length: n * st.S }, () => 0.5 * rng.normal());
    const got = st.run(states, n, x, steps);
    // Independent: the cell's own forward on x repeated at every step, from the same states.
    const xs = new Float64Array(steps * n * I);
    for (let r = 0; r < steps * n; r++) xs.set(x, r * I);
    const want = packStates(def.forward(p, xs, { T: steps, B: n, inputSize: I, units: H }, states), steps, n, H, st.S);
    assert.equal(got.length, want.length);
    let err = 0;
    for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
    assert.ok(err < 1e-12, `${JSON.stringify(spec)}: max difference ${err}`);
    // A second input reuses nothing of the first.
    const x2 = x.map((v) => -2 * v);
    const xs2 = xs.subarray(0, n * I).map((v) => -2 * v);
    const want2 = packStates(def.forward(p, xs2, { T: 1, B: n, inputSize: I, units: H }, states), 1, n, H, st.S);
    const got2 = st.step(states, n, x2);
    for (let i = 0; i < got2.length; i++) assert.ok(Math.abs(got2[i] - want2[i]) < 1e-12, `${JSON.stringify(spec)}: second input`);
  }
});
