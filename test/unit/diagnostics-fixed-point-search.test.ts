/**
 * Issue 10 (a): honest fixed-point searches. Planted ground truth (layers built by hand whose attractors are
 * known), "at least" wording, margins that keep the untrained BRC pitchfork from counting as memory, and
 * verdicts that do not change with the seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose } from '../../core/diagnostics/diagnose';
import { describeReport } from '../../core/diagnostics/sentences';
import { brcCellularAttractors, defaultFixedPointInput } from '../../core/diagnostics/fixed-points';
import type { DiagnosticReport } from '../../core/diagnostics/types';
import { createModel, layerParams } from '../../core/model/network';
import { referenceCell } from '../../core/cells/index';
import type { CellDef, CellKind } from '../../core/cells/types';
import { cellResolver, fastEngineStatus } from '../../core/engine/index';
import { Rng } from '../../core/util/rng';
import { makeModel, setParams } from '../helpers/diag-models';

/** Root h* > 0 of h = tanh(g h) (g > 1) by bisection. */
function hStar(g: number): number {
  let lo = 1e-9,
    hi = 1;
  for (let i = 0; i < 200; i++) {
    const m = (lo + hi) / 2;
    if (Math.tanh(g * m) > m) lo = m;
    else hi = m;
  }
  return lo;
}

/** Time-major [T, B, I] batch whose first step writes the sign pattern `signs[b]` (±1 per channel), then zeros. */
function patternBatch(signs: number[][], T: number): { x: Float64Array; T: number; B: number } {
  const B = signs.length;
  const I = signs[0].length;
  const x = new Float64Array(T * B * I);
  signs.forEach((s, b) => s.forEach((v, i) => (x[b * I + i] = v)));
  return { x, T, B };
}

const fpText = (r: DiagnosticReport) =>
  r.diagnosis
    .filter((s) => s.refs.some((p) => p.startsWith('fixedPoints')))
    .map((s) => s.text)
    .join('\n');
const key = (state: number[], k: number) =>
  state
    .slice(0, k)
    .map((v) => (v > 0 ? '+' : '-'))
    .join('');

test('BRC with 3 independent bistable neurons and 1 monostable one: all 2³ stable states found, exact count agrees', () => {
  const k = 3,
    H = 4;
  const model = makeModel([{ cell: 'brc', units: H }], { inputSize: H });
  // a = 1.5 for the first three neurons, 0.5 for the last; c = ½; input channel j writes neuron j.
  const U = new Array(H * H).fill(0);
  for (let j = 0; j < H; j++) U[j * H + j] = 3;
  setParams(model, {
    'layers.0.U_a': new Array(H * H).fill(0),
    'layers.0.w_a': new Array(H).fill(0),
    'layers.0.b_a': [0.5, 0.5, 0.5, -0.5].map(Math.atanh),
    'layers.0.U_c': new Array(H * H).fill(0),
    'layers.0.w_c': new Array(H).fill(0),
    'layers.0.b_c': new Array(H).fill(0),
    'layers.0.U': U,
  });
  // Every sign pattern of the three bistable neurons once.
  const signs = Array.from({ length: 2 ** k }, (_, b) => [...Array.from({ length: k }, (_, i) => ((b >> i) & 1 ? 1 : -1)), 1]);
  const { x, T, B } = patternBatch(signs, 20);
  const r = diagnose(model, { input: { x, T, B, y: new Float64Array(B) }, sections: ['fixedPoints'] });
  const fp = r.fixedPoints;
  assert.equal(fp.cellular?.bistableNeurons, k);
  assert.equal(fp.cellular?.marginalNeurons, 0);
  assert.equal(fp.cellular?.log2StableStates, k);
  const s = fp.search!;
  assert.equal(s.counts.stable, 2 ** k, JSON.stringify(s.counts));
  assert.equal(s.verdict, 'several-attractors');
  // Each stable point is (±h*(1.5), ±h*(1.5), ±h*(1.5), 0), and all 8 patterns are there.
  const hs = hStar(1.5);
  const stable = fp.points.filter((p) => p.stability === 'stable');
  for (const p of stable) {
    p.state.slice(0, k).forEach((v) => assert.ok(Math.abs(Math.abs(v) - hs) < 1e-6, `${v} vs ±${hs}`));
    assert.ok(Math.abs(p.state[k]) < 1e-6);
  }
  assert.equal(new Set(stable.map((p) => key(p.state, k))).size, 2 ** k);
  // The sentence presents the search as a subset of the exact count, never more.
  assert.match(fpText(r), /3 of layer 1's 4 neurons have two stable states with margin .* giving the layer 8 stable states/);
  assert.match(fpText(r), /found at least 8 of the layer's stable states/);
  assert.equal(s.starts, 2 ** k * 20 > 128 ? 128 : 2 ** k * 20);
  assert.equal(s.sequences, B);
});

test('a search that settles on no stable state never says "found at least 0" of the exact count', () => {
  const H = 3;
  const model = makeModel([{ cell: 'brc', units: H }], { inputSize: H });
  const U = new Array(H * H).fill(0);
  for (let j = 0; j < H; j++) U[j * H + j] = 3;
  setParams(model, {
    'layers.0.U_a': new Array(H * H).fill(0),
    'layers.0.w_a': new Array(H).fill(0),
    'layers.0.b_a': new Array(H).fill(Math.atanh(0.5)),
    'layers.0.U_c': new Array(H * H).fill(0),
    'layers.0.w_c': new Array(H).fill(0),
    'layers.0.b_c': new Array(H).fill(0),
    'layers.0.U': U,
  });
  const signs = Array.from({ length: 4 }, (_, b) => [b & 1 ? 1 : -1, b & 2 ? 1 : -1, 1]);
  const { x, T, B } = patternBatch(signs, 20);
  const found = diagnose(model, { input: { x, T, B, y: new Float64Array(B) }, sections: ['fixedPoints'] });
  assert.equal(found.fixedPoints.cellular?.bistableNeurons, 3);
  // The same report as if every run had ended marginal (seen on a trained BRC): 0 stable found.
  const s = found.fixedPoints.search!;
  const r = {
    ...found,
    fixedPoints: {
      ...found.fixedPoints,
      search: { ...s, counts: { ...s.counts, marginal: s.counts.marginal + s.counts.stable, stable: 0 } },
    },
  };
  r.diagnosis = describeReport(r);
  const text = fpText(r);
  assert.doesNotMatch(text, /at least 0/);
  assert.match(text, /giving the layer 8 stable states/);
  assert.match(text, /settled on no stable state with margin \(it found \d+ unstable and \d+ marginal fixed points\)/);
});

test('a GRU layer with 2⁶ attractors: at least as many stable states as the batch wrote, "at least" wording, no "single attractor"', () => {
  const k = 6;
  const model = makeModel([{ cell: 'gru', units: k }], { inputSize: k });
  // Gates z = r = ½ (zero weights); candidate tanh(3 x_j + ½ · 4 h_j): every neuron is bistable on its own
  // (h = tanh(2h)), so the layer has 2⁶ stable states (±h*(2) per neuron).
  const kernel = new Array(k * 3 * k).fill(0);
  const rk = new Array(k * 3 * k).fill(0);
  for (let j = 0; j < k; j++) {
    kernel[j * 3 * k + 2 * k + j] = 3;
    rk[j * 3 * k + 2 * k + j] = 4;
  }
  setParams(model, { 'layers.0.kernel': kernel, 'layers.0.recurrent_kernel': rk, 'layers.0.bias': new Array(2 * 3 * k).fill(0) });
  const hs = hStar(2);
  for (const seed of [1, 2, 3]) {
    const rng = new Rng(seed);
    const signs = Array.from({ length: 10 }, () => Array.from({ length: k }, () => (rng.uniform() < 0.5 ? -1 : 1)));
    const written = new Set(signs.map((s) => key(s, k)));
    const { x, T, B } = patternBatch(signs, 30);
    const r = diagnose(model, {
      input: { x, T, B, y: new Float64Array(B) },
      seed,
      sections: ['fixedPoints'],
      fixedPoints: { candidates: 40, maxPoints: 64 },
    });
    const fp = r.fixedPoints;
    const stable = fp.points.filter((p) => p.stability === 'stable' && !p.slow);
    for (const p of stable) p.state.forEach((v) => assert.ok(Math.abs(Math.abs(v) - hs) < 1e-6, `${v} vs ±${hs}`));
    const found = new Set(stable.map((p) => key(p.state, k)));
    for (const w of written) assert.ok(found.has(w), `seed ${seed}: the written pattern ${w} was not found`);
    assert.ok(fp.search!.counts.stable >= written.size && fp.search!.counts.stable <= 2 ** k);
    assert.equal(fp.search!.verdict, 'several-attractors');
    const text = fpText(r);
    assert.match(text, new RegExp(`found at least ${fp.search!.counts.stable} stable`));
    assert.doesNotMatch(text, /single attractor|has \d+ stable/);
  }
});

test('an nBRC layer with 2⁴ attractors (gates without neuromodulation): every written state found, seeds agree', () => {
  const k = 4;
  const model = makeModel([{ cell: 'nbrc', units: k }], { inputSize: k });
  const U = new Array(k * k).fill(0);
  for (let j = 0; j < k; j++) U[j * k + j] = 3;
  setParams(model, {
    'layers.0.U_a': new Array(k * k).fill(0),
    'layers.0.W_a': new Array(k * k).fill(0),
    'layers.0.b_a': new Array(k).fill(Math.atanh(0.5)),
    'layers.0.U_c': new Array(k * k).fill(0),
    'layers.0.W_c': new Array(k * k).fill(0),
    'layers.0.b_c': new Array(k).fill(0),
    'layers.0.U': U,
  });
  const signs = Array.from({ length: 2 ** k }, (_, b) => Array.from({ length: k }, (_, i) => ((b >> i) & 1 ? 1 : -1)));
  const { x, T, B } = patternBatch(signs, 25);
  const hs = hStar(1.5);
  const texts = [1, 2, 3].map((seed) => {
    const r = diagnose(model, {
      input: { x, T, B, y: new Float64Array(B) },
      seed,
      sections: ['fixedPoints'],
      fixedPoints: { candidates: 24 },
    });
    const fp = r.fixedPoints;
    assert.equal(fp.cellular, undefined);
    const stable = fp.points.filter((p) => p.stability === 'stable' && !p.slow);
    for (const p of stable) p.state.forEach((v) => assert.ok(Math.abs(Math.abs(v) - hs) < 1e-6));
    assert.equal(new Set(stable.map((p) => key(p.state, k))).size, 2 ** k);
    assert.equal(fp.search!.verdict, 'several-attractors');
    return fpText(r);
  });
  for (const t of texts)
    assert.match(t, /found at least 16 stable, \d+ unstable and 0 marginal fixed points of layer 1 .*: several attractors/);
  assert.equal(
    new Set(texts.map((t) => t.replace(/\d+ unstable/, '# unstable').replace(/; \d+ distinct end states, \d+ checked/, ''))).size,
    1,
  );
});

test('the untrained BRC pitchfork (a = 1 exactly): without a margin every neuron looked bistable; with it none is, all are marginal', () => {
  const H = 50;
  // Default BRC init: w_a = 1, b_a = 0, so a = 1 at h = 0 for every neuron: the bifurcation point.
  const model = makeModel(
    [
      { cell: 'brc', units: H },
      { cell: 'brc', units: H },
    ],
    { seed: 3 },
  );
  const seeds = [1, 2, 3];
  const reports = seeds.map((seed) => diagnose(model, { task: 'copy', T: 60, batch: 16, seed, sections: ['fixedPoints'] }));
  for (const r of reports) {
    const fp = r.fixedPoints;
    const c = fp.cellular!;
    // The count the issue found false: multipliers 1 − O(1e-9) at a = 1 pass |λ| < 1 without a margin.
    const bare = brcCellularAttractors(layerParams(model, 1), fp.layerInput!, H, H, 0);
    assert.ok(bare.bistableNeurons > H / 2, `without margin: ${bare.bistableNeurons}`);
    assert.equal(c.bistableNeurons, 0);
    assert.equal(c.marginalNeurons, H);
    // Independently: at a = 1 + tanh(h) the root h = 0 has multiplier c + (1 − c)(a + a'·0) = 1 exactly.
    const p = layerParams(model, 1);
    for (let j = 0; j < H; j++) assert.equal(p.w_a[j], 1);
    assert.equal(fp.search!.counts.stable, 0);
    assert.equal(fp.search!.verdict, 'marginal');
    const text = fpText(r);
    assert.match(text, new RegExp(`0 of layer 2's ${H} neurons have two stable states with margin`));
    assert.match(text, new RegExp(`${H} neurons have a marginal fixed point`));
    assert.doesNotMatch(text, /2\^\d+ stable states|other neurons/);
    assert.notEqual(r.diagnosis.find((s) => s.refs.includes('fixedPoints.cellular.bistableNeurons'))?.severity, 'good');
  }
  // Same sentence for every seed.
  assert.equal(new Set(reports.map((r) => fpText(r).replace(/\d+ runs from observed states of \d+ sequences/, ''))).size, 1);
});

test('a ≤ 1 + δ is not bistable, a slightly above is; a stable state the input knocks out of its basin is marginal', () => {
  const I = 1,
    H = 3;
  const g = [1 + 5e-4, 1.5, 1.02];
  const p = {
    U: Float64Array.of(0, 0, 2),
    U_a: new Float64Array(3),
    U_c: new Float64Array(3),
    w_a: new Float64Array(3),
    w_c: new Float64Array(3),
    b_a: Float64Array.from(g, (a) => Math.atanh(a - 1)),
    b_c: new Float64Array(3),
  };
  // Neuron 0: multipliers within 1e-3 of 1 (a − 1 = 5e-4): marginal, not bistable. Neuron 1: bistable.
  const still = brcCellularAttractors(p, [0], I, H);
  assert.deepEqual(still.stablePerNeuron, [0, 2, 2]);
  assert.deepEqual(still.marginalPerNeuron, [3, 0, 0]);
  assert.equal(still.bistableNeurons, 2);
  // Neuron 2 (a = 1.02, basin half-width h*(1.02) ≈ 0.24) driven by 2·N(0,1) each step: its median input
  // effect is larger than the basin, so its two states are marginal.
  const hs = hStar(1.02);
  const pushed = brcCellularAttractors(p, [0], I, H, 1e-3, [0, 0, hs * 1.01]);
  assert.deepEqual(pushed.stablePerNeuron, [0, 2, 0]);
  assert.deepEqual(pushed.marginalPerNeuron, [3, 0, 2]);
  const held = brcCellularAttractors(p, [0], I, H, 1e-3, [0, 0, hs * 0.99]);
  assert.deepEqual(held.stablePerNeuron, [0, 2, 2]);
});

test('the input effect behind the basin check is the median one-step displacement of the observed states', () => {
  const model = makeModel([{ cell: 'brc', units: 2 }]);
  setParams(model, {
    'layers.0.U_a': [0, 0],
    'layers.0.w_a': [0, 0],
    'layers.0.b_a': [Math.atanh(0.02), Math.atanh(0.5)],
    'layers.0.U_c': [0, 0],
    'layers.0.w_c': [0, 0],
    'layers.0.b_c': [0, 0],
    'layers.0.U': [2, 0.01],
  });
  const rng = new Rng(4);
  const T = 200,
    B = 8;
  const x = Float64Array.from({ length: T * B }, () => rng.normal());
  const r = diagnose(model, { input: { x, T, B, y: new Float64Array(B) }, sections: ['fixedPoints'] });
  const c = r.fixedPoints.cellular!;
  // Independent: h_{t+1} − F(h_t) = ½ (tanh(U x_{t+1} + a h_t) − tanh(a h_t)) from a plain simulation.
  const a = [1.02, 1.5];
  const U = [2, 0.01];
  for (let j = 0; j < 2; j++) {
    const d: number[] = [];
    for (let b = 0; b < B; b++) {
      let h = 0;
      for (let t = 0; t < T; t++) {
        const u = U[j] * x[t * B + b];
        const next = 0.5 * h + 0.5 * Math.tanh(u + a[j] * h);
        if (t > 0) d.push(Math.abs(next - (0.5 * h + 0.5 * Math.tanh(a[j] * h))));
        h = next;
      }
    }
    d.sort((p, q) => p - q);
    // The report samples 1024 of the (T − 1)·B steps: its median lies within the sample's 95 % order-statistic band.
    const lo = d[Math.floor(d.length * 0.45)],
      hi = d[Math.ceil(d.length * 0.55)];
    assert.ok(c.inputEffect![j] >= lo && c.inputEffect![j] <= hi, `neuron ${j}: ${c.inputEffect![j]} not in [${lo}, ${hi}]`);
  }
  // Neuron 0 (a = 1.02) is knocked across its narrow basin by typical inputs: marginal. Neuron 1 holds.
  assert.equal(c.stablePerNeuron[1], 2);
  assert.equal(c.stablePerNeuron[0], 0);
  assert.equal(c.bistableNeurons, 1);
  assert.equal(c.marginalNeurons, 1);
});

test('a contracting layer: every run settles at one state; the sentence bounds the other basins and does not claim a single attractor', () => {
  const model = makeModel([{ cell: 'gru', units: 5 }], { seed: 2 });
  const rk = model.params.get('layers.0.recurrent_kernel')!.data;
  for (let i = 0; i < rk.length; i++) rk[i] *= 0.3;
  const runs = [1, 2, 3].map((seed) => diagnose(model, { task: 'copy', T: 40, batch: 16, seed, sections: ['fixedPoints'] }));
  for (const r of runs) {
    const s = r.fixedPoints.search!;
    assert.equal(s.verdict, 'one-attractor');
    assert.equal(s.settled, s.starts);
    assert.equal(s.counts.stable, 1);
    // Wilson bound on the share of visited states in other basins, 0 of n seen.
    assert.ok(s.largestBasin.value === 1 && s.largestBasin.lo > 0.9);
    const text = fpText(r);
    assert.match(text, /all runs settled at the same state/);
    assert.match(text, /other attractors may exist elsewhere/);
    assert.doesNotMatch(text, /single attractor/);
  }
  // Too few steps to settle: the search says it is inconclusive and how to get more.
  const short = diagnose(model, { task: 'copy', T: 40, batch: 16, seed: 1, sections: ['fixedPoints'], fixedPoints: { steps: 1 } });
  assert.equal(short.fixedPoints.search!.verdict, 'inconclusive');
  assert.match(
    fpText(short),
    /found at least 1 stable.*inconclusive \(\d+ of 128 runs had not settled after 1 steps\); search longer .*--fixed-point-steps/,
  );
});

test('the unsettled share is an interval that covers the share from a 10× larger search', () => {
  // A contracting GRU with slow updates (z bias 2): within 30 steps the runs from nearby states settle, the
  // ones from far away do not, so the share is a real proportion of the starts.
  const model = makeModel([{ cell: 'gru', units: 5 }], { seed: 2 });
  const rk = model.params.get('layers.0.recurrent_kernel')!.data;
  for (let i = 0; i < rk.length; i++) rk[i] *= 0.3;
  const bias = model.params.get('layers.0.bias')!.data;
  for (let j = 0; j < 5; j++) bias[j] = 2;
  const small = diagnose(model, {
    task: 'copy',
    T: 200,
    batch: 32,
    seed: 1,
    sections: ['fixedPoints'],
    fixedPoints: { starts: 64, steps: 30 },
  });
  const large = diagnose(model, {
    task: 'copy',
    T: 200,
    batch: 32,
    seed: 9,
    sections: ['fixedPoints'],
    fixedPoints: { starts: 640, steps: 30 },
  });
  const e = small.fixedPoints.search!.unsettled;
  const big = large.fixedPoints.search!.unsettled;
  assert.equal(e.n, 64);
  assert.equal(big.n, 640);
  assert.ok(e.value > 0.05 && e.value < 0.95, `the case should be mixed (${e.value})`);
  assert.ok(big.value >= e.lo && big.value <= e.hi, `${big.value} outside [${e.lo}, ${e.hi}]`);
});

test('x* defaults to the hold-period input of the task and can be set', () => {
  assert.deepEqual(defaultFixedPointInput({ inputSize: 1 }, 'copy'), [0]);
  assert.deepEqual(defaultFixedPointInput({ inputSize: 2 }, 'denoise'), [0, -1]);
  assert.deepEqual(defaultFixedPointInput({ inputSize: 1 }, 'smnist'), [0]);
  const model = makeModel([{ cell: 'brc', units: 4 }], { inputSize: 2, task: { name: 'denoise', T: 20, N: 5 } });
  model.arch.readout = { units: 5, activation: 'linear', perStep: false };
  const r = diagnose(model, { T: 20, N: 5, batch: 4, sections: ['fixedPoints'] });
  assert.deepEqual(r.fixedPoints.input, [0, -1]);
  assert.match(fpText(r), /x\* = \[0, -1\.0\]/);
  const set = diagnose(model, { T: 20, N: 5, batch: 4, sections: ['fixedPoints'], fixedPoints: { input: [0.5, 0] } });
  assert.deepEqual(set.fixedPoints.input, [0.5, 0]);
});

test('diagnose --fixed-point-input/-starts/-steps reach the search; bad values are one-line usage errors', async () => {
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { saveModel } = await import('../../core/model/model-file');
  const { runCli } = await import('../helpers/cli');
  const dir = mkdtempSync(join(tmpdir(), 'fp-cli-'));
  try {
    const modelPath = join(dir, 'm.safetensors');
    saveModel(modelPath, makeModel([{ cell: 'gru', units: 3 }], { seed: 4, task: { name: 'copy', T: 10 } }));
    const out = join(dir, 'r.json');
    const ok = await runCli([
      'diagnose',
      '--model',
      modelPath,
      '--T',
      '12',
      '--batch',
      '4',
      '--sections',
      'fixedPoints',
      '--fixed-point-input',
      '0.5',
      '--fixed-point-starts',
      '20',
      '--fixed-point-steps',
      '30',
      '--out',
      out,
      '--quiet',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const r = JSON.parse(readFileSync(out, 'utf8')) as DiagnosticReport;
    assert.deepEqual(r.fixedPoints.input, [0.5]);
    assert.equal(r.fixedPoints.search!.starts, 20);
    assert.equal(r.fixedPoints.search!.maxSteps, 30);
    assert.ok(r.fixedPoints.search!.steps <= 30);
    const cases: [string[], RegExp][] = [
      [['--fixed-point-input', '1,2'], /--fixed-point-input: the model has 1 input, got 2 values/],
      [['--fixed-point-input', '1,x'], /--fixed-point-input must be comma-separated numbers/],
      [['--fixed-point-starts', '0'], /--fixed-point-starts must be a positive integer/],
      [['--fixed-point-steps', '2.5'], /--fixed-point-steps must be an integer/],
    ];
    for (const [extra, msg] of cases) {
      const res = await runCli(['diagnose', '--model', modelPath, '--T', '4', '--batch', '2', ...extra]);
      assert.equal(res.code, 2, `${extra.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, msg);
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('extension settings: x*, starts and steps; invalid values fall back to the defaults', async () => {
  const { fixedPointSettings } = await import('../../extension/diagnose-settings');
  const get = (v: Record<string, unknown>) => (k: string) => v[k];
  assert.deepEqual(
    fixedPointSettings(get({ 'diagnose.fixedPointInput': [0, -1], 'diagnose.fixedPointStarts': 300, 'diagnose.fixedPointSteps': 1000 })),
    { input: [0, -1], starts: 300, steps: 1000 },
  );
  assert.deepEqual(
    fixedPointSettings(get({ 'diagnose.fixedPointInput': [], 'diagnose.fixedPointStarts': 0, 'diagnose.fixedPointSteps': 2.5 })),
    { input: undefined, starts: undefined, steps: undefined },
  );
  assert.deepEqual(fixedPointSettings(get({ 'diagnose.fixedPointInput': [0, 'x'] })), {
    input: undefined,
    starts: undefined,
    steps: undefined,
  });
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { DEFAULT_STARTS, DEFAULT_STEPS } = await import('../../core/diagnostics/fixed-points');
  const props = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).contributes.configuration.properties;
  assert.equal(props['rnnMemory.diagnose.fixedPointStarts'].default, DEFAULT_STARTS);
  assert.equal(props['rnnMemory.diagnose.fixedPointSteps'].default, DEFAULT_STEPS);
  assert.deepEqual(props['rnnMemory.diagnose.fixedPointInput'].default, []);
});

test('the fixed-points panel caption says "at least", the margin, and shows the search as a subset of the exact BRC count', async () => {
  const { fixedPointsCaption } = await import('../../webview/lib/fixed-point-caption');
  const model = makeModel([{ cell: 'brc', units: 2 }]);
  setParams(model, {
    'layers.0.U_a': [0, 0],
    'layers.0.w_a': [0, 0],
    'layers.0.b_a': [Math.atanh(0.5), Math.atanh(-0.5)],
    'layers.0.U_c': [0, 0],
    'layers.0.w_c': [0, 0],
    'layers.0.b_c': [0, 0],
    'layers.0.U': [1, 1],
  });
  const r = diagnose(model, {
    input: { x: Float64Array.of(3, -3, 0, 0, 0, 0), T: 3, B: 2, y: new Float64Array(2) },
    sections: ['fixedPoints'],
  });
  const text = fixedPointsCaption(r.fixedPoints);
  const c = r.fixedPoints.search!.counts;
  assert.match(text, new RegExp(`found at least ${c.stable} stable, ${c.unstable} unstable and ${c.marginal} marginal`));
  assert.match(text, /margin δ = 0\.001, clustering tolerance 0\.01/);
  assert.match(
    text,
    /1 of 2 neurons have two stable states with margin, so the layer has 2¹ stable states; the search shows at least 2 of them/,
  );
});

test('the search runs its dynamics on the fast engine from given states and finds what the reference cells find', () => {
  const status = fastEngineStatus();
  if (!status.available) return void console.log(`# skipped: ${status.reason}`);
  let fromState = 0;
  const fast = cellResolver('native');
  // The engine's cells, counting forward passes from a given state (the runs of the search).
  const counting = (kind: CellKind): CellDef => {
    const def = fast(kind);
    return {
      ...def,
      forward: (p, x, shape, init) => {
        if (init) fromState++;
        return def.forward(p, x, shape, init);
      },
    };
  };
  for (const [cell, seed] of [
    ['nbrc', 1],
    ['nbrc', 2],
    ['lstm', 1],
  ] as const) {
    const model = createModel(
      {
        inputSize: 1,
        layers: [
          { cell, units: 24 },
          { cell, units: 24 },
        ],
        readout: { units: 1, activation: 'linear', perStep: false },
        task: { name: 'copy', T: 100 },
      },
      new Rng(seed),
    );
    fromState = 0;
    const a = diagnose(model, { cells: counting, T: 200, batch: 32, seed, sections: ['fixedPoints'] }).fixedPoints;
    assert.ok(fromState > 0, `${cell}: no forward pass of the engine from a given state`);
    const b = diagnose(model, { cells: referenceCell, T: 200, batch: 32, seed, sections: ['fixedPoints'] }).fixedPoints;
    const tag = `${cell} seed ${seed}`;
    assert.deepEqual(a.search?.counts, b.search?.counts, `${tag}: counts`);
    assert.equal(a.search?.verdict, b.search?.verdict, `${tag}: verdict`);
    assert.equal(a.search?.settled, b.search?.settled, `${tag}: settled runs`);
    assert.equal(a.search?.endStates, b.search?.endStates, `${tag}: end states`);
    assert.equal(a.points.length, b.points.length, `${tag}: points`);
    // Refined in float64 either way: the same points, to the refinement's tolerance.
    for (const p of a.points.filter((q) => !q.slow)) {
      const twin = b.points.find((q) => q.stability === p.stability && p.state.every((v, i) => Math.abs(v - q.state[i]) < 1e-4));
      assert.ok(twin, `${tag}: ${p.stability} point ${p.state.slice(0, 3).map((v) => v.toFixed(4))}… has no twin in the reference search`);
    }
  }
});
